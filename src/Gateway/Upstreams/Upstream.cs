using System.Collections.Concurrent;

namespace Gateway.Upstreams;

/// <summary>A configured upstream at run time: its options, protocol and YARP cluster.</summary>
public sealed class Upstream(string name, UpstreamOptions options, IUpstreamProtocol protocol)
{
    // Addresses are few (destinations × API paths, the model in Workers AI paths), so each is parsed once; past this
    // many, new ones are parsed on every use instead of kept.
    private const int MaxCachedAddresses = 1024;

    private readonly ConcurrentDictionary<(string Prefix, string PathAndQuery), Uri> _addresses = new();
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

    /// <summary>The <c>Authorization</c> header value the gateway calls the upstream with (<c>Bearer</c> and its API
    /// token); null without a token.</summary>
    public string? BearerAuthorization { get; } = string.IsNullOrEmpty(options.ApiToken) ? null : "Bearer " + options.ApiToken;

    /// <summary>The absolute address of an API path on a destination (its address, a trailing '/' dropped).</summary>
    public Uri Address(string destinationPrefix, string pathAndQuery)
    {
        if (_addresses.TryGetValue((destinationPrefix, pathAndQuery), out var cached))
        {
            return cached;
        }
        var address = new Uri(destinationPrefix.TrimEnd('/') + pathAndQuery);
        if (_addresses.Count < MaxCachedAddresses)
        {
            _addresses.TryAdd((destinationPrefix, pathAndQuery), address);
        }
        return address;
    }

    /// <summary>Round-robin index over the cluster's available destinations.</summary>
    internal int NextIndex(int count) => (int)((uint)Interlocked.Increment(ref _next) % (uint)count);
}
