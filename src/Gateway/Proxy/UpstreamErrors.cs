using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Gateway.Errors;
using Gateway.Upstreams;

namespace Gateway.Proxy;

/// <summary>Maps an upstream's error status and body to the error the client sees.</summary>
/// <remarks>Client faults (400, 413, 422, 429) keep their meaning; faults of the gateway's own configuration
/// (401, 403, 404) become 502 without echoing upstream details that could reveal credentials.</remarks>
internal static class UpstreamErrors
{
    private const int MaxMessageChars = 500;

    /// <summary>Maps the status and body; a 429 or 503 keeps the upstream's <c>Retry-After</c> (either form).</summary>
    public static ApiError Map(Upstream upstream, HttpStatusCode status, ReadOnlySpan<byte> body, RetryConditionHeaderValue? retryAfter = null)
    {
        var error = MapStatus(upstream, status, body);
        return retryAfter is not null && error.Status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable
            ? error with { RetryAfter = retryAfter.ToString() }
            : error;
    }

    private static ApiError MapStatus(Upstream upstream, HttpStatusCode status, ReadOnlySpan<byte> body)
    {
        var message = ReadMessage(upstream.Protocol, body);
        var code = (int)status;
        return status switch
        {
            HttpStatusCode.BadRequest or HttpStatusCode.UnprocessableEntity =>
                new ApiError(HttpStatusCode.BadRequest, ApiErrorKind.InvalidRequest, $"Upstream rejected the request: {message ?? $"HTTP {code}"}"),
            HttpStatusCode.RequestEntityTooLarge =>
                new ApiError(HttpStatusCode.RequestEntityTooLarge, ApiErrorKind.PayloadTooLarge, $"Upstream says the request is too large: {message ?? $"HTTP {code}"}"),
            HttpStatusCode.TooManyRequests =>
                new ApiError(HttpStatusCode.TooManyRequests, ApiErrorKind.Unavailable, $"Upstream is rate limiting: {message ?? $"HTTP {code}"}"),
            HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden =>
                new ApiError(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamError, $"Upstream '{upstream.Name}' rejected the gateway's credentials (HTTP {code})."),
            HttpStatusCode.NotFound =>
                new ApiError(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamError, $"Upstream '{upstream.Name}' has no such route or model (HTTP 404)."),
            HttpStatusCode.ServiceUnavailable =>
                new ApiError(HttpStatusCode.ServiceUnavailable, ApiErrorKind.Unavailable, $"Upstream '{upstream.Name}' is unavailable{(message is null ? "." : $": {message}")}"),
            HttpStatusCode.RequestTimeout or HttpStatusCode.GatewayTimeout =>
                new ApiError(HttpStatusCode.GatewayTimeout, ApiErrorKind.UpstreamTimeout, $"Upstream '{upstream.Name}' timed out (HTTP {code})."),
            _ => new ApiError(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamError, $"Upstream '{upstream.Name}' failed (HTTP {code}){(message is null ? "." : $": {message}")}"),
        };
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
            var message = protocol.ReadErrorMessage(doc.RootElement);
            return message is { Length: > MaxMessageChars } ? message[..MaxMessageChars] + "..." : message;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
