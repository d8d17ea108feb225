using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Errors;
using Gateway.Upstreams;

namespace Gateway.Proxy;

/// <summary>Maps an upstream's error status and body to the error the client sees.</summary>
/// <remarks>Per docs/adr/002, only client faults (400, 413, 422, 429) relay the upstream's message, cut to 500
/// characters and with every configured credential redacted first. Faults of the gateway's own configuration
/// (401, 403, 404) and server errors (5xx) carry no upstream text, which could reveal credentials or internals;
/// only the in-process upstreams (demo, guard), whose messages are the gateway's own, keep theirs.</remarks>
internal static class UpstreamErrors
{
    private const int MaxMessageChars = 500;

    /// <summary>Maps the status and body; a 429 or 503 keeps the upstream's <c>Retry-After</c> (either form).</summary>
    public static ApiError Map(Upstream upstream, HttpStatusCode status, ReadOnlySpan<byte> body, SecretRedactor redactor,
        RetryConditionHeaderValue? retryAfter = null)
    {
        var error = MapStatus(upstream, status, body, redactor);
        return retryAfter is not null && error.Status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable
            ? error with { RetryAfter = retryAfter.ToString() }
            : error;
    }

    private static ApiError MapStatus(Upstream upstream, HttpStatusCode status, ReadOnlySpan<byte> body, SecretRedactor redactor)
    {
        var code = (int)status;
        return status switch
        {
            HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity => ApiErrors.UpstreamRejected(Relayed(upstream, body, redactor, code)),
            HttpStatusCode.RequestEntityTooLarge => ApiErrors.UpstreamPayloadTooLarge(Relayed(upstream, body, redactor, code)),
            HttpStatusCode.TooManyRequests => ApiErrors.UpstreamRateLimited(Relayed(upstream, body, redactor, code)),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden => ApiErrors.UpstreamCredentialsRejected(upstream.Name, code),
            HttpStatusCode.NotFound => ApiErrors.UpstreamRouteNotFound(upstream.Name),
            HttpStatusCode.ServiceUnavailable => ApiErrors.UpstreamUnavailable(upstream.Name, OwnDetail(upstream, body, redactor, code)),
            HttpStatusCode.RequestTimeout or HttpStatusCode.GatewayTimeout => ApiErrors.UpstreamTimedOut(upstream.Name, code),
            _ => ApiErrors.UpstreamFailed(upstream.Name, code, OwnDetail(upstream, body, redactor, code)),
        };
    }

    /// <summary>The upstream's own message, redacted, then cut; or the bare status when it sent none.</summary>
    private static string Relayed(Upstream upstream, ReadOnlySpan<byte> body, SecretRedactor redactor, int code)
    {
        if (ReadMessage(upstream.Protocol, body) is not { Length: > 0 } message)
        {
            return $"HTTP {code}";
        }
        // Redact before cutting: a cut could otherwise leave the start of a credential behind.
        message = redactor.Redact(message);
        return message.Length > MaxMessageChars ? message[..MaxMessageChars] + "..." : message;
    }

    /// <summary>The end of a server-error message: an in-process upstream's (demo, guard) message is the gateway's own
    /// and says what to fix ("set Guard:Engine"), so it is kept; a remote upstream's text is not relayed.</summary>
    private static string OwnDetail(Upstream upstream, ReadOnlySpan<byte> body, SecretRedactor redactor, int code)
    {
        if (upstream.Options.Kind.IsInProcess() && ReadMessage(upstream.Protocol, body) is { Length: > 0 })
        {
            return ": " + Relayed(upstream, body, redactor, code);
        }
        return code == 503 ? " (HTTP 503)." : ".";
    }

    private static string? ReadMessage(IUpstreamProtocol protocol, ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return null;
        }
        try
        {
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
            return protocol.ReadErrorMessage(doc.RootElement);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
