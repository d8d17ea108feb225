namespace Gateway.Tests.Sse;

/// <summary>A read-only stream that returns fixed bytes, then reads from another stream.</summary>
internal sealed class ConcatStream(byte[] head, Stream tail) : Stream
{
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_position < head.Length)
        {
            var size = Math.Min(buffer.Length, head.Length - _position);
            head.AsMemory(_position, size).CopyTo(buffer);
            _position += size;
            return size;
        }

        return await tail.ReadAsync(buffer, cancellationToken);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
