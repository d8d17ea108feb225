namespace Gateway.Tests.Sse;

/// <summary>A read-only stream that hands out its bytes in chunks of chosen sizes, one chunk per read.</summary>
internal sealed class ChunkedStream(byte[] data, Func<int> nextChunkSize) : Stream
{
    private int _position;

    public int Reads { get; private set; }

    public static ChunkedStream Fixed(byte[] data, int chunkSize) => new(data, () => chunkSize);

    public static ChunkedStream Random(byte[] data, int seed, int maxChunk = 16)
    {
        var random = new Random(seed);
        return new ChunkedStream(data, () => random.Next(1, maxChunk + 1));
    }

    /// <summary>Chunks ending at the given offsets of the data, then the rest in one read.</summary>
    public static ChunkedStream SplitAt(byte[] data, params int[] offsets)
    {
        var index = 0;
        var previous = 0;
        return new ChunkedStream(data, () =>
        {
            var end = index < offsets.Length ? offsets[index++] : data.Length;
            var size = Math.Max(1, end - previous);
            previous = end;
            return size;
        });
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position >= data.Length || buffer.IsEmpty)
        {
            return 0;
        }

        Reads++;
        var size = Math.Min(Math.Min(nextChunkSize(), buffer.Length), data.Length - _position);
        data.AsSpan(_position, size).CopyTo(buffer);
        _position += size;
        return size;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
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
