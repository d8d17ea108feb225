namespace Gateway.Upstreams;

/// <summary>A configured upstream at run time: its options, protocol and YARP cluster.</summary>
public sealed class Upstream(string name, UpstreamOptions options, IUpstreamProtocol protocol)
{
    private int _next;

    /// <summary>The upstream's configured name.</summary>
    public string Name { get; } = name;

    /// <summary>Its options.</summary>
    public UpstreamOptions Options { get; } = options;

    /// <summary>The protocol it speaks.</summary>
    public IUpstreamProtocol Protocol { get; } = protocol;

    /// <summary>Total time allowed to read a non-streamed response body: <see cref="UpstreamOptions.ResponseBodyTimeout"/>,
    /// else <see cref="UpstreamOptions.ResponseTimeout"/>.</summary>
    public TimeSpan ResponseBodyTimeout => Options.ResponseBodyTimeout ?? Options.ResponseTimeout;

    /// <summary>The YARP cluster id holding its destinations.</summary>
    public string ClusterId => Options.Cluster ?? Name;

    /// <summary>Round-robin index over the cluster's available destinations.</summary>
    internal int NextIndex(int count) => (int)((uint)Interlocked.Increment(ref _next) % (uint)count);
}
