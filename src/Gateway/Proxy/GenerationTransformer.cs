using Gateway.Upstreams;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;
using HeaderNames = Microsoft.Net.Http.Headers.HeaderNames;

namespace Gateway.Proxy;

/// <summary>Per-request YARP transformer: points the request at the upstream's API path with the gateway's own
/// credentials, and hands the upstream response to the <see cref="GenerationResponder"/> instead of copying it.</summary>
internal sealed class GenerationTransformer(
    Upstream upstream, UpstreamRequest call, bool translated, Func<HttpContext, HttpResponseMessage, Task> respond) : HttpTransformer
{
    // A translated request reaches a server of another protocol: the client SDK's own headers (x-stainless-*, api-version,
    // ...) mean nothing there, so only tracing and correlation headers go along.
    private static readonly string[] TranslatedHeaders = ["traceparent", "tracestate", "baggage", "X-Request-Id"];

    // Client credentials and cookies never reach the upstream; compression is refused so the gateway can read bodies.
    private static readonly string[] StrippedHeaders =
    [
        HeaderNames.Authorization, HeaderNames.Cookie, HeaderNames.ProxyAuthorization, "X-Auth-Key", "X-Auth-Email",
        "X-Api-Key", "Api-Key", "OpenAI-Organization", "OpenAI-Project", HeaderNames.AcceptEncoding,
    ];

    // The upstream answers either; streams come as SSE.
    private const string AcceptedTypes = "application/json, text/event-stream";

    /// <summary>Whether the upstream answered and the responder took over the response.</summary>
    public bool Responded { get; private set; }

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        if (translated)
        {
            foreach (var header in proxyRequest.Headers.ToList())
            {
                if (!TranslatedHeaders.Contains(header.Key, StringComparer.OrdinalIgnoreCase))
                {
                    proxyRequest.Headers.Remove(header.Key);
                }
            }
        }
        foreach (var name in StrippedHeaders)
        {
            proxyRequest.Headers.Remove(name);
        }
        proxyRequest.RequestUri = upstream.Address(destinationPrefix, call.PathAndQuery);
        // Set as text, as sent: parsing them into header objects on every request would only turn them back into the
        // same text.
        proxyRequest.Headers.Remove(HeaderNames.Accept);
        proxyRequest.Headers.TryAddWithoutValidation(HeaderNames.Accept, AcceptedTypes);
        if (upstream.BearerAuthorization is { } authorization)
        {
            proxyRequest.Headers.TryAddWithoutValidation(HeaderNames.Authorization, authorization);
        }
        if (proxyRequest.Content is not null)
        {
            proxyRequest.Content.Headers.Remove(HeaderNames.ContentType);
            proxyRequest.Content.Headers.TryAddWithoutValidation(HeaderNames.ContentType, "application/json");
        }
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        if (proxyResponse is null)
        {
            return false;
        }
        Responded = true;
        await respond(httpContext, proxyResponse);
        return false;
    }
}
