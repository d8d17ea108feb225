using System.Buffers;
namespace Gateway.Proxy;

/// <summary>Reads a whole upstream body into memory under a size limit.</summary>
internal static class UpstreamBodyReader
{
    /// <summary>Reads the body; throws <see cref="UpstreamBodyTooLargeException"/> past <paramref name="maxBytes"/>.</summary>
    public static async Task<ReadOnlyMemory<byte>> ReadAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        var declared = content.Headers.ContentLength;
        if (declared > maxBytes)
        {
            throw new UpstreamBodyTooLargeException(maxBytes);
        }
        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        if (declared is { } length)
        {
            // The length is known (and enforced by the HTTP client, which fails a body that ends early): one array of
            // that size, with no growing and no copy.
            var body = new byte[length];
            var filled = 0;
            while (filled < body.Length)
            {
                var read = await stream.ReadAsync(body.AsMemory(filled), cancellationToken);
                if (read == 0)
                {
                    return body.AsMemory(0, filled);
                }
                filled += read;
            }
            return body;
        }
        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var memory = buffer.GetMemory();
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
