using System.Net;

namespace Gateway.Errors;

/// <summary>Maps each <see cref="ApiErrorKind"/> to the codes every API surface uses for it.</summary>
/// <remarks>Workers AI codes follow the documented Workers AI error table where one exists (5004, 5007, 3003,
/// 5005, 3006, 3007); 5021 is what Workers AI answers (HTTP 413) when input and maximum output tokens exceed a model's
/// context window; 2016/2017 are the codes Cloudflare AI Gateway's own guardrails answer for a blocked prompt or response;
/// codes 7000/7001 are Cloudflare's routing errors; 10000 is the Cloudflare API's authentication error; 9xxx are this gateway's own.
/// The table is documented in docs/api.md.</remarks>
internal static class ErrorCatalog
{
    public static int WorkersAiCode(ApiErrorKind kind) => kind switch
    {
        ApiErrorKind.MalformedJson => 5004,
        ApiErrorKind.InvalidRequest => 5006,
        ApiErrorKind.ModelNotFound => 5007,
        ApiErrorKind.LoraUnsupported => 5005,
        ApiErrorKind.RouteNotFound => 7000,
        ApiErrorKind.MethodNotAllowed => 7001,
        ApiErrorKind.PayloadTooLarge => 3006,
        ApiErrorKind.ContextWindowExceeded => 5021,
        ApiErrorKind.UnsupportedMediaType => 3003,
        ApiErrorKind.UpstreamTimeout => 3007,
        ApiErrorKind.UpstreamError => 9001,
        ApiErrorKind.UpstreamProtocol => 9002,
        ApiErrorKind.PromptBlocked => 2016,
        ApiErrorKind.ResponseBlocked => 2017,
        ApiErrorKind.Unavailable => 9004,
        ApiErrorKind.Unauthorized => 10000,
        _ => 9005,
    };

    public static string OpenAiType(ApiErrorKind kind) => kind switch
    {
        ApiErrorKind.MalformedJson or ApiErrorKind.InvalidRequest or ApiErrorKind.ModelNotFound
            or ApiErrorKind.LoraUnsupported or ApiErrorKind.RouteNotFound or ApiErrorKind.MethodNotAllowed
            or ApiErrorKind.PayloadTooLarge or ApiErrorKind.UnsupportedMediaType or ApiErrorKind.PromptBlocked or ApiErrorKind.ResponseBlocked
            or ApiErrorKind.ContextWindowExceeded or ApiErrorKind.Unauthorized
            => "invalid_request_error",
        ApiErrorKind.Unavailable => "server_overloaded",
        _ => "api_error",
    };

    public static string? OpenAiCode(ApiErrorKind kind) => kind switch
    {
        ApiErrorKind.MalformedJson => "invalid_json",
        ApiErrorKind.ModelNotFound => "model_not_found",
        ApiErrorKind.RouteNotFound => "unknown_url",
        ApiErrorKind.MethodNotAllowed => "method_not_allowed",
        ApiErrorKind.PayloadTooLarge => "request_too_large",
        ApiErrorKind.ContextWindowExceeded => "context_length_exceeded",
        ApiErrorKind.UnsupportedMediaType => "unsupported_media_type",
        ApiErrorKind.UpstreamTimeout => "upstream_timeout",
        ApiErrorKind.UpstreamError => "upstream_error",
        ApiErrorKind.UpstreamProtocol => "upstream_protocol_error",
        ApiErrorKind.PromptBlocked or ApiErrorKind.ResponseBlocked => "content_filter",
        ApiErrorKind.Unavailable => "unavailable",
        ApiErrorKind.Internal => "internal_error",
        ApiErrorKind.Unauthorized => "invalid_api_key",
        _ => null,
    };

    /// <summary>The status for a surface: Workers AI reports unknown models as 400, OpenAI as 404; Workers AI reports
    /// an exceeded context window as 413, OpenAI as 400.</summary>
    public static HttpStatusCode Status(ApiError error, bool workersAi) => error.Kind switch
    {
        ApiErrorKind.ModelNotFound => workersAi ? HttpStatusCode.BadRequest : HttpStatusCode.NotFound,
        ApiErrorKind.LoraUnsupported when !workersAi => HttpStatusCode.BadRequest,
        ApiErrorKind.ContextWindowExceeded => workersAi ? HttpStatusCode.RequestEntityTooLarge : HttpStatusCode.BadRequest,
        _ => error.Status,
    };
}
