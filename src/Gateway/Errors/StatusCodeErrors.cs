using System.Net;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Errors;

/// <summary>Gives bodiless error statuses (unknown routes, wrong methods) the caller's error envelope.</summary>
internal static class StatusCodeErrors
{
    public static Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        var workersAi = ErrorWriter.IsWorkersAiPath(http.Request.Path);
        var error = status switch
        {
            404 => new ApiError(HttpStatusCode.NotFound, ApiErrorKind.RouteNotFound, $"No route for that URI: {http.Request.Method} {http.Request.Path}"),
            405 => new ApiError(HttpStatusCode.MethodNotAllowed, ApiErrorKind.MethodNotAllowed,
                $"Method {http.Request.Method} is not allowed on {http.Request.Path}; use {(StringValues.IsNullOrEmpty(http.Response.Headers.Allow) ? "POST" : http.Response.Headers.Allow.ToString())}."),
            413 => new ApiError(HttpStatusCode.RequestEntityTooLarge, ApiErrorKind.PayloadTooLarge, "Request is too large."),
            415 => new ApiError(HttpStatusCode.UnsupportedMediaType, ApiErrorKind.UnsupportedMediaType, "Unsupported Content-Type; send 'application/json'."),
            >= 500 => new ApiError((HttpStatusCode)status, ApiErrorKind.Internal, "The gateway failed to process the request."),
            _ => new ApiError((HttpStatusCode)status, ApiErrorKind.InvalidRequest, $"The request failed with HTTP {status}."),
        };
        return ErrorWriter.WriteResponseAsync(http, error, workersAi);
    }

    /// <summary>Answers an unhandled exception (already logged by the exception handler middleware) with a 500 in the
    /// caller's envelope; the exception's own message is never shown.</summary>
    public static Task WriteUnhandledAsync(HttpContext context) =>
        ErrorWriter.WriteResponseAsync(context,
            new ApiError(HttpStatusCode.InternalServerError, ApiErrorKind.Internal, "The gateway failed to process the request."),
            ErrorWriter.IsWorkersAiPath(context.Request.Path));
}
