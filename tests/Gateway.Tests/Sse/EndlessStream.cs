namespace Gateway.Tests.Sse;

/// <summary>A read-only stream that never ends: it either waits forever or repeats one byte forever.</summary>
internal sealed class EndlessStream(byte? fill) : Stream
{
    /// <summary>A stream whose reads never return until cancelled, like a stalled upstream.</summary>
    public static EndlessStream Stalled() => new(null);

    /// <summary>A stream that sends the same byte forever, like a hostile upstream.</summary>
    public static EndlessStream Repeating(byte value) => new(value);

    public long BytesRead { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (fill is not byte value)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
            return 0;
        }

        buffer.Span.Fill(value);
        BytesRead += buffer.Length;
        return buffer.Length;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
