namespace Gateway.Upstreams;

/// <summary>The wire protocol an upstream speaks.</summary>
public enum UpstreamKind
{
    /// <summary>The Cloudflare Workers AI REST API (<c>/client/v4/accounts/{id}/ai/run/{model}</c>); requests are forwarded as is.</summary>
    WorkersAi,

    /// <summary>An OpenAI-compatible server (vLLM, Ollama, llama.cpp server); Workers AI requests are translated.</summary>
    OpenAi,

    /// <summary>The built-in demo backend (OpenAI-compatible, in process); needs no cluster.</summary>
    Demo,

    /// <summary>The configured guard engine serving Llama Guard models itself (in process); needs no cluster.</summary>
    Guard,
}

internal static class UpstreamKindExtensions
{
    /// <summary>Whether the upstream runs inside the gateway (no cluster, no socket).</summary>
    public static bool IsInProcess(this UpstreamKind kind) => kind is UpstreamKind.Demo or UpstreamKind.Guard;
}

/// <summary>One generation backend (<c>Gateway:Upstreams:{name}</c>); its addresses live in a YARP cluster.</summary>
public sealed class UpstreamOptions
{
    /// <summary>The protocol it speaks.</summary>
    public UpstreamKind Kind { get; set; } = UpstreamKind.OpenAi;

    /// <summary>The YARP cluster (<c>ReverseProxy:Clusters</c>) holding its destinations; defaults to the upstream's name.</summary>
    public string? Cluster { get; set; }

    /// <summary>Workers AI account id used on every forwarded request (the client's account id is never forwarded).</summary>
    public string? AccountId { get; set; }

    /// <summary>Bearer token the gateway injects; never exposed to clients or logged.</summary>
    public string? ApiToken { get; set; }

    /// <summary>Path prefix before the API paths: <c>/client/v4</c> for Workers AI, empty for OpenAI servers (which get <c>/v1/...</c>).</summary>
    public string? BasePath { get; set; }

    /// <summary>How a Workers AI <c>lora</c> becomes the backend's model name; <c>{model}</c> and <c>{lora}</c> are replaced.
    /// vLLM serves each adapter under its own model name, hence the default.</summary>
    public string LoraModelFormat { get; set; } = "{lora}";

    /// <summary>Whether <c>top_k</c> and <c>repetition_penalty</c> are sent to an OpenAI-compatible server (vLLM, llama.cpp
    /// accept them; OpenAI proper does not).</summary>
    public bool ExtendedSampling { get; set; } = true;

    /// <summary>Time allowed until the upstream's response headers arrive.</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Total time allowed to read a non-streamed response body (success or error) once its headers have
    /// arrived; null means <see cref="ResponseTimeout"/>. A body that stalls or arrives too slowly is answered with 504.</summary>
    public TimeSpan? ResponseBodyTimeout { get; set; }

    /// <summary>Longest silence allowed between two stream events before the stream is cut with an error.</summary>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>Sends models matching <see cref="Models"/> (a glob: <c>*</c> matches any run of characters) to <see cref="Upstream"/>.</summary>
public sealed class RouteRuleOptions
{
    /// <summary>Model id pattern.</summary>
    public string Models { get; set; } = "*";

    /// <summary>Upstream name.</summary>
    public string Upstream { get; set; } = "";
}
