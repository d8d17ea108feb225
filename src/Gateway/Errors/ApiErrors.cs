using System.Net;
using Gateway.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Errors;

/// <summary>Every error the gateway reports, one method per failure, so that each status, kind and message is
/// written and reviewed in one place.</summary>
/// <remarks>Clients and tests read these messages: change their text only on purpose. Field validation errors
/// (400 <see cref="ApiErrorKind.InvalidRequest"/> naming a parameter) use <see cref="ApiError.Invalid"/> where the
/// field is checked.</remarks>
internal static class ApiErrors
{
    // --- Routing and the edge ---

    /// <summary>404: no endpoint matches the method and path.</summary>
    public static ApiError RouteNotFound(string method, PathString path) =>
        new(HttpStatusCode.NotFound, ApiErrorKind.RouteNotFound, $"No route for that URI: {method} {path}");

    /// <summary>405: the path exists but not for this method; <paramref name="allow"/> is the response's <c>Allow</c>
    /// header (POST when empty).</summary>
    public static ApiError MethodNotAllowed(string method, PathString path, StringValues allow) =>
        new(HttpStatusCode.MethodNotAllowed, ApiErrorKind.MethodNotAllowed,
            $"Method {method} is not allowed on {path}; use {(StringValues.IsNullOrEmpty(allow) ? "POST" : allow.ToString())}.");

    /// <summary>413 without a known limit (Kestrel's own limit).</summary>
    public static ApiError PayloadTooLarge() =>
        new(HttpStatusCode.RequestEntityTooLarge, ApiErrorKind.PayloadTooLarge, "Request is too large.");

    /// <summary>415 without a known content type.</summary>
    public static ApiError UnsupportedMediaType() =>
        new(HttpStatusCode.UnsupportedMediaType, ApiErrorKind.UnsupportedMediaType, "Unsupported Content-Type; send 'application/json'.");

    /// <summary>A failure inside the gateway (500 unless another 5xx is given); never says what failed.</summary>
    public static ApiError Internal(HttpStatusCode status = HttpStatusCode.InternalServerError) =>
        new(status, ApiErrorKind.Internal, "The gateway failed to process the request.");

    /// <summary>Any other bodiless client-error status.</summary>
    public static ApiError RequestFailed(int status) =>
        new((HttpStatusCode)status, ApiErrorKind.InvalidRequest, $"The request failed with HTTP {status}.");

    /// <summary>No API key, or one that is not configured (never echoes what was sent).</summary>
    public static ApiError Unauthorized(bool keyPresent) =>
        new(HttpStatusCode.Unauthorized, ApiErrorKind.Unauthorized, keyPresent
            ? "The API key is not valid."
            : "No API key was provided: send it as 'Authorization: Bearer <key>'.");

    // --- The request body ---

    /// <summary>415: the content type is not JSON.</summary>
    public static ApiError UnsupportedContentType(string contentType) =>
        new(HttpStatusCode.UnsupportedMediaType, ApiErrorKind.UnsupportedMediaType,
            $"Unsupported Content-Type '{contentType}'; send 'application/json'.");

    /// <summary>415: a JSON content type with a charset other than UTF-8.</summary>
    public static ApiError UnsupportedCharset(StringSegment charset) =>
        new(HttpStatusCode.UnsupportedMediaType, ApiErrorKind.UnsupportedMediaType,
            $"Unsupported charset '{charset}'; JSON bodies must be UTF-8.");

    /// <summary>413: the body is over the gateway's limit (Gateway:MaxRequestBodyBytes).</summary>
    public static ApiError BodyTooLarge(long limit) =>
        new(HttpStatusCode.RequestEntityTooLarge, ApiErrorKind.PayloadTooLarge,
            $"Request is too large: the body limit is {limit} bytes.");

    /// <summary>408: the whole body did not arrive within Gateway:RequestBodyTimeout.</summary>
    public static ApiError BodyTimeout(TimeSpan timeout) =>
        BodyLate($"the whole body must arrive within {timeout.TotalSeconds:0.###} s (Gateway:RequestBodyTimeout).");

    /// <summary>408: the server stopped waiting for the body, for the reason given (Kestrel's data rate).</summary>
    public static ApiError BodyLate(string reason) =>
        new(HttpStatusCode.RequestTimeout, ApiErrorKind.InvalidRequest, $"The request body did not arrive in time: {reason}");

    /// <summary>400: the body's framing is broken (bad chunk, body cut short).</summary>
    public static ApiError BodyUnreadable(string reason) =>
        new(HttpStatusCode.BadRequest, ApiErrorKind.MalformedJson, $"The request body could not be read: {reason}");

    /// <summary>400: the body is empty.</summary>
    public static ApiError BodyEmpty() =>
        new(HttpStatusCode.BadRequest, ApiErrorKind.MalformedJson, "Request body is empty; send a JSON object.");

    /// <summary>400: the body is not UTF-8.</summary>
    public static ApiError BodyNotUtf8() =>
        new(HttpStatusCode.BadRequest, ApiErrorKind.MalformedJson, "Request body is not valid UTF-8.");

    /// <summary>400: a JSON string escapes half of a UTF-16 surrogate pair.</summary>
    public static ApiError BodyUnpairedSurrogate() =>
        new(HttpStatusCode.BadRequest, ApiErrorKind.MalformedJson,
            "Request body is not valid JSON text: a string contains an unpaired UTF-16 surrogate escape (\\uD800-\\uDFFF).");

    /// <summary>400: the body does not parse as JSON.</summary>
    public static ApiError BodyNotJson(string reason) =>
        new(HttpStatusCode.BadRequest, ApiErrorKind.MalformedJson, $"Request body is not valid JSON: {reason}");

    /// <summary>400: the body is JSON but not an object; <paramref name="kind"/> describes what it is.</summary>
    public static ApiError BodyNotObject(string kind) =>
        new(HttpStatusCode.BadRequest, ApiErrorKind.InvalidRequest, $"Request body must be a JSON object, got {kind}.");

    // --- Models ---

    /// <summary>404: the Workers AI path names no model.</summary>
    public static ApiError NoModelInPath() =>
        new(HttpStatusCode.NotFound, ApiErrorKind.ModelNotFound,
            "The path names no model; use .../ai/run/{model} (GET /v1/models lists them).");

    /// <summary>404: the model is not in the catalog, in the surface's own wording.</summary>
    public static ApiError ModelNotFound(string model, bool workersAi) =>
        new(HttpStatusCode.NotFound, ApiErrorKind.ModelNotFound,
            workersAi ? $"No such model {model} or task" : $"The model '{model}' does not exist", workersAi ? null : "model");

    /// <summary>405: <c>lora</c> was given for a model without LoRA support (Workers AI's status and wording).</summary>
    public static ApiError LoraUnsupported(string model) =>
        new(HttpStatusCode.MethodNotAllowed, ApiErrorKind.LoraUnsupported, $"The model {model} does not support LoRa inference.", "lora");

    /// <summary>400: the prompt's tokens plus <c>max_tokens</c> exceed the model's context window, in the surface's own
    /// wording (Workers AI's "estimated number of input and maximum output tokens", OpenAI's
    /// <c>context_length_exceeded</c>); both name <paramref name="field"/> as the one to shorten.</summary>
    public static ApiError ContextWindowExceeded(bool workersAi, string field, int window, int promptTokens, bool estimated,
        int maxTokens, bool maxTokensGiven)
    {
        var total = (long)promptTokens + maxTokens;
        var how = estimated ? "estimated from its bytes" : "counted with the model's tokenizer";
        string message;
        if (workersAi)
        {
            message = $"The estimated number of input and maximum output tokens ({total}) exceeded this model context window limit "
                + $"({window}): {promptTokens} in '{field}' ({how}) and {maxTokens} for max_tokens"
                + $"{(maxTokensGiven ? "" : " (the model's default)")}. Shorten '{field}' or lower max_tokens.";
        }
        else
        {
            message = $"This model's maximum context length is {window} tokens. However, you requested {total} tokens "
                + $"({promptTokens} in the {field}{(estimated ? " (estimated)" : "")}, {maxTokens} in the completion). "
                + $"Please reduce the length of the {field} or completion.";
        }
        return new(HttpStatusCode.BadRequest, ApiErrorKind.ContextWindowExceeded, message, field);
    }

    // --- Moderation ---

    /// <summary>400: prompt moderation blocked the request. The message starts with the words Cloudflare AI Gateway's
    /// guardrails use (code 2016), so apps that match them keep working; the categories follow, never the text.</summary>
    public static ApiError PromptBlocked(IReadOnlyList<string>? categories) =>
        new(HttpStatusCode.BadRequest, ApiErrorKind.PromptBlocked, "Prompt blocked due to security configurations" + CategoryList(categories));

    /// <summary>400: response moderation blocked the answer (Cloudflare AI Gateway's code 2017 and words).</summary>
    public static ApiError ResponseBlocked(IReadOnlyList<string>? categories) =>
        new(HttpStatusCode.BadRequest, ApiErrorKind.ResponseBlocked, "Response blocked due to security configurations" + CategoryList(categories));

    /// <summary>503: the guard gave no usable verdict and the policy fails closed; nothing was forwarded.</summary>
    public static ApiError GuardUnavailable(string policy, string what) =>
        new(HttpStatusCode.ServiceUnavailable, ApiErrorKind.Unavailable,
            $"The content guard gave no usable verdict ({what}) and policy '{policy}' fails closed; the request was not forwarded.");

    /// <summary>503: the guard gave no usable verdict on the response and the policy fails closed; it was withheld.</summary>
    public static ApiError ResponseGuardUnavailable(string policy, string what) =>
        new(HttpStatusCode.ServiceUnavailable, ApiErrorKind.Unavailable,
            $"The content guard gave no usable verdict on the response ({what}) and policy '{policy}' fails closed; the response was withheld.");

    private static string CategoryList(IReadOnlyList<string>? categories) =>
        categories is { Count: > 0 } ? " (categories: " + string.Join(", ", categories) + ")." : ".";

    /// <summary>503: <c>/v1/moderations</c> has no guard engine.</summary>
    public static ApiError NoGuardEngine() =>
        new(HttpStatusCode.ServiceUnavailable, ApiErrorKind.Unavailable, "No guard engine is configured; set Guard:Engine.");

    /// <summary>The guard engine failed: 503 when it may work on retry, else 502; its message is the gateway's own.</summary>
    public static ApiError GuardFailed(bool transient, string message) =>
        new(transient ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.BadGateway,
            transient ? ApiErrorKind.Unavailable : ApiErrorKind.UpstreamError, message);

    // --- Reaching the upstream ---

    /// <summary>503: the upstream's YARP cluster is not loaded.</summary>
    public static ApiError UpstreamNotLoaded(string upstream, string clusterId) =>
        new(HttpStatusCode.ServiceUnavailable, ApiErrorKind.Unavailable,
            $"Upstream '{upstream}' is not available (cluster '{clusterId}' is not loaded).");

    /// <summary>503: every destination of the upstream is unhealthy.</summary>
    public static ApiError UpstreamNoHealthyDestination(string upstream) =>
        new(HttpStatusCode.ServiceUnavailable, ApiErrorKind.Unavailable, $"Upstream '{upstream}' has no healthy destination.");

    /// <summary>504: the upstream sent no response headers within its ResponseTimeout.</summary>
    public static ApiError UpstreamTimeout(string upstream, TimeSpan after) =>
        new(HttpStatusCode.GatewayTimeout, ApiErrorKind.UpstreamTimeout, $"Upstream '{upstream}' did not answer in {after.TotalSeconds:0} s.");

    /// <summary>502: forwarding failed before a response.</summary>
    public static ApiError UpstreamUnreachable(string upstream, ForwarderError error) =>
        new(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamError, $"Upstream '{upstream}' could not be reached ({error}).");

    // --- The upstream's error statuses (see UpstreamErrors for which keep the upstream's text) ---

    /// <summary>400: the upstream rejected the request (its 400 or 422); <paramref name="detail"/> is its redacted message.</summary>
    public static ApiError UpstreamRejected(string detail) =>
        new(HttpStatusCode.BadRequest, ApiErrorKind.InvalidRequest, $"Upstream rejected the request: {detail}");

    /// <summary>413: the upstream found the request too large; <paramref name="detail"/> is its redacted message.</summary>
    public static ApiError UpstreamPayloadTooLarge(string detail) =>
        new(HttpStatusCode.RequestEntityTooLarge, ApiErrorKind.PayloadTooLarge, $"Upstream says the request is too large: {detail}");

    /// <summary>429: the upstream is rate limiting; <paramref name="detail"/> is its redacted message.</summary>
    public static ApiError UpstreamRateLimited(string detail) =>
        new(HttpStatusCode.TooManyRequests, ApiErrorKind.Unavailable, $"Upstream is rate limiting: {detail}");

    /// <summary>502: the upstream refused the gateway's credentials (its 401 or 403).</summary>
    public static ApiError UpstreamCredentialsRejected(string upstream, int status) =>
        new(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamError, $"Upstream '{upstream}' rejected the gateway's credentials (HTTP {status}).");

    /// <summary>502: the upstream answered 404 (a wrong route or model name in the gateway's configuration).</summary>
    public static ApiError UpstreamRouteNotFound(string upstream) =>
        new(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamError, $"Upstream '{upstream}' has no such route or model (HTTP 404).");

    /// <summary>503: the upstream answered 503; <paramref name="ending"/> ends the sentence.</summary>
    public static ApiError UpstreamUnavailable(string upstream, string ending) =>
        new(HttpStatusCode.ServiceUnavailable, ApiErrorKind.Unavailable, $"Upstream '{upstream}' is unavailable{ending}");

    /// <summary>504: the upstream answered 408 or 504.</summary>
    public static ApiError UpstreamTimedOut(string upstream, int status) =>
        new(HttpStatusCode.GatewayTimeout, ApiErrorKind.UpstreamTimeout, $"Upstream '{upstream}' timed out (HTTP {status}).");

    /// <summary>502: any other upstream error status; <paramref name="ending"/> ends the sentence.</summary>
    public static ApiError UpstreamFailed(string upstream, int status, string ending) =>
        new(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamError, $"Upstream '{upstream}' failed (HTTP {status}){ending}");

    // --- The upstream's response ---

    /// <summary>502: the upstream's response could not be read as its protocol.</summary>
    public static ApiError UpstreamMalformedResponse(string upstream) =>
        new(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamProtocol, $"Upstream '{upstream}' sent a malformed response.");

    /// <summary>502: the connection failed while the response was being read.</summary>
    public static ApiError UpstreamResponseFailed(string upstream) =>
        new(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamError, $"Upstream '{upstream}' failed while sending its response.");

    /// <summary>502: the response body is over Gateway:MaxUpstreamResponseBytes.</summary>
    public static ApiError UpstreamResponseTooLarge(string upstream, long limit) =>
        new(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamError,
            $"Upstream '{upstream}' sent a response larger than {limit} bytes, the limit set by Gateway:{nameof(GatewayOptions.MaxUpstreamResponseBytes)}.");

    /// <summary>504: the response body did not all arrive within the upstream's body deadline.</summary>
    public static ApiError UpstreamBodyTimeout(string upstream, TimeSpan after) =>
        new(HttpStatusCode.GatewayTimeout, ApiErrorKind.UpstreamTimeout,
            $"Upstream '{upstream}' did not send its whole response within {after.TotalSeconds:0.###} s.");

    // --- Streams (a cut stream: docs/adr/005) ---

    /// <summary>502: a stream request was answered without <c>text/event-stream</c>.</summary>
    public static ApiError StreamNotEventStream(string upstream, string? mediaType) =>
        new(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamProtocol,
            $"Upstream '{upstream}' answered a stream request with '{mediaType ?? "no content type"}', not an event stream.");

    /// <summary>504: the upstream went silent for its StreamIdleTimeout.</summary>
    public static ApiError StreamIdle(string upstream, TimeSpan after) =>
        new(HttpStatusCode.GatewayTimeout, ApiErrorKind.UpstreamTimeout,
            $"Upstream '{upstream}' sent nothing for {after.TotalSeconds:0.###} s; the stream was cut.");

    /// <summary>502: one stream event is over Gateway:MaxStreamEventBytes.</summary>
    public static ApiError StreamEventTooLarge(string upstream, long limit) =>
        new(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamError,
            $"Upstream '{upstream}' sent a stream event larger than {limit} bytes, the limit set by Gateway:{nameof(GatewayOptions.MaxStreamEventBytes)}; the stream was cut.");

    /// <summary>502: the stream broke, or sent an event its protocol cannot read (<paramref name="malformed"/>).</summary>
    public static ApiError StreamFailed(string upstream, bool malformed) =>
        new(HttpStatusCode.BadGateway, malformed ? ApiErrorKind.UpstreamProtocol : ApiErrorKind.UpstreamError,
            $"Upstream '{upstream}' failed mid-stream; the stream was cut.");

    /// <summary>502: the stream ended inside an event.</summary>
    public static ApiError StreamTruncatedEvent(string upstream) =>
        new(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamError,
            $"Upstream '{upstream}' ended the stream in the middle of an event; the stream was cut.");

    /// <summary>502: the stream closed before sending any event.</summary>
    public static ApiError StreamNoEvents(string upstream) =>
        new(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamProtocol,
            $"Upstream '{upstream}' answered a stream request with no stream events.");

    /// <summary>502: the stream closed cleanly but without its protocol's end marker.</summary>
    public static ApiError StreamEndMissing(string upstream) =>
        new(HttpStatusCode.BadGateway, ApiErrorKind.UpstreamError,
            $"Upstream '{upstream}' closed the stream before its end; the stream was cut.");
}
