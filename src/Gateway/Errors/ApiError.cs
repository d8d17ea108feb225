using System.Net;

namespace Gateway.Errors;

/// <summary>What went wrong with a request, independent of the API surface that reports it.</summary>
/// <remarks>Each layer raises <see cref="ApiException"/> with one of these; the edge maps it to the caller's
/// error envelope in one place (<see cref="ErrorWriter"/>).</remarks>
public sealed record ApiError(HttpStatusCode Status, ApiErrorKind Kind, string Message, string? Param = null)
{
    /// <summary>A <c>Retry-After</c> value (delta-seconds or an HTTP-date) sent with the error, when its cause gave one.</summary>
    public string? RetryAfter { get; init; }

    /// <summary>Creates a 400 for an invalid field.</summary>
    public static ApiError Invalid(string message, string? param = null) =>
        new(HttpStatusCode.BadRequest, ApiErrorKind.InvalidRequest, message, param);

    /// <summary>Creates an <see cref="ApiException"/> for an invalid field.</summary>
    public static ApiException InvalidException(string message, string? param = null) => new(Invalid(message, param));
}

/// <summary>Error categories, each with a stable Workers AI code and an OpenAI <c>type</c>/<c>code</c>.</summary>
public enum ApiErrorKind
{
    /// <summary>The body is not well-formed JSON or not valid UTF-8.</summary>
    MalformedJson,

    /// <summary>A field is missing, of the wrong type or out of range.</summary>
    InvalidRequest,

    /// <summary>The model is not in the catalog.</summary>
    ModelNotFound,

    /// <summary>The model does not take LoRA adapters.</summary>
    LoraUnsupported,

    /// <summary>No such route.</summary>
    RouteNotFound,

    /// <summary>The method is not allowed on the route.</summary>
    MethodNotAllowed,

    /// <summary>The body exceeds the configured limit.</summary>
    PayloadTooLarge,

    /// <summary>The prompt's tokens plus <c>max_tokens</c> exceed the model's context window.</summary>
    ContextWindowExceeded,

    /// <summary>The content type is not JSON.</summary>
    UnsupportedMediaType,

    /// <summary>The upstream failed or could not be reached.</summary>
    UpstreamError,

    /// <summary>The upstream did not answer in time.</summary>
    UpstreamTimeout,

    /// <summary>The upstream answered with something the gateway cannot read.</summary>
    UpstreamProtocol,

    /// <summary>The prompt was blocked by its moderation policy.</summary>
    PromptBlocked,

    /// <summary>The response was blocked by its moderation policy.</summary>
    ResponseBlocked,

    /// <summary>The gateway is not ready to serve, or is shedding load.</summary>
    Unavailable,

    /// <summary>An unexpected failure inside the gateway.</summary>
    Internal,

    /// <summary>No API key, or one that is not configured.</summary>
    Unauthorized,
}

/// <summary>Raised anywhere in the request flow to end it with an <see cref="ApiError"/>.</summary>
public sealed class ApiException(ApiError error) : Exception(error.Message)
{
    /// <summary>The error to report.</summary>
    public ApiError Error { get; } = error;
}
