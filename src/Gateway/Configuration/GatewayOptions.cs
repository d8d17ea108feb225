using Gateway.Catalog;
using Gateway.Upstreams;

namespace Gateway.Configuration;

/// <summary>Host tunables bound from the <c>Gateway</c> configuration section.</summary>
public sealed class GatewayOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Gateway";

    /// <summary>Largest accepted request body, in bytes.</summary>
    public long MaxRequestBodyBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Total time allowed to receive a request body, however slowly it arrives; past it the request is answered
    /// with 408. Zero turns the deadline off (Kestrel's minimum data rate still applies).</summary>
    public TimeSpan RequestBodyTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Largest non-streamed upstream body the gateway reads, in bytes.</summary>
    public int MaxUpstreamResponseBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Largest single upstream stream event, in bytes.</summary>
    public int MaxStreamEventBytes { get; set; } = 1024 * 1024;

    /// <summary>How many guard checks of one streamed response may run at once (docs/policies.md#streaming-modes); a
    /// window that closes while all are busy is covered by the next check.</summary>
    public int MaxStreamChecksInFlight { get; set; } = 2;

    /// <summary>Whether logs may contain prompt and response text. Off by default; turn on only for debugging.</summary>
    public bool LogContent { get; set; }

    /// <summary>Tokenizer directories (holding <c>tokenizer.json</c> or <c>tokenizer.model</c>) keyed by family
    /// (<c>llama2</c>, <c>llama3</c>), for counting prompt tokens against context windows; a relative path is resolved
    /// against the content root. A family without a loadable tokenizer is estimated from bytes.</summary>
    public Dictionary<string, string?> Tokenizers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The model catalog, keyed by model id.</summary>
    public Dictionary<string, ModelOptions> Models { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Generation backends, keyed by name.</summary>
    public Dictionary<string, UpstreamOptions> Upstreams { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Which models go to which upstream; the first matching rule wins.</summary>
    public List<RouteRuleOptions> Routes { get; set; } = [];

    /// <summary>Settings of the HTTP server (Kestrel's socket transport).</summary>
    public ServerOptions Server { get; set; } = new();
}

/// <summary>Settings of the HTTP server, bound from <c>Gateway:Server</c> (docs/configuration.md#server).</summary>
public sealed class ServerOptions
{
    /// <summary>Whether Kestrel runs the request pipeline on the thread that completed the socket read instead of
    /// queueing it to the thread pool (<c>SocketTransportOptions.UnsafePreferInlineScheduling</c>). Saves a thread hop
    /// per read; safe only while nothing on the request path blocks its thread.</summary>
    public bool InlineScheduling { get; set; }
}
