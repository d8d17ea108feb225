namespace Gateway.Proxy;

/// <summary>An upstream body (or one stream event) is larger than the gateway reads.</summary>
internal sealed class UpstreamBodyTooLargeException(long maxBytes)
    : Exception($"The upstream body exceeds {maxBytes} bytes.")
{
    /// <summary>The limit it exceeded, in bytes.</summary>
    public long MaxBytes { get; } = maxBytes;
}
