using System.Buffers;
namespace Gateway.Proxy;

/// <summary>Reads a whole upstream body into memory under a size limit.</summary>
internal static class UpstreamBodyReader
{
    /// <summary>Reads the body; throws <see cref="UpstreamBodyTooLargeException"/> past <paramref name="maxBytes"/>.</summary>
    public static async Task<ReadOnlyMemory<byte>> ReadAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > maxBytes)
        {
            throw new UpstreamBodyTooLargeException(maxBytes);
        }
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        var buffer = new ArrayBufferWriter<byte>(8192);
        while (true)
        {
            var memory = buffer.GetMemory(8192);
            var read = await stream.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                // The buffer is this call's own: hand its memory out instead of copying it.
                return buffer.WrittenMemory;
            }
            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                throw new UpstreamBodyTooLargeException(maxBytes);
            }
        }
    }
}
