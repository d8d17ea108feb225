using System.Net;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;

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
            404 => ApiErrors.RouteNotFound(http.Request.Method, http.Request.Path),
            405 => ApiErrors.MethodNotAllowed(http.Request.Method, http.Request.Path, http.Response.Headers.Allow),
            413 => ApiErrors.PayloadTooLarge(),
            415 => ApiErrors.UnsupportedMediaType(),
            >= 500 => ApiErrors.Internal((HttpStatusCode)status),
            _ => ApiErrors.RequestFailed(status),
        };
        return ErrorWriter.WriteResponseAsync(http, error, workersAi);
    }

    /// <summary>Answers an unhandled exception (already logged by the exception handler middleware) with a 500 in the
    /// caller's envelope; the exception's own message is never shown.</summary>
    public static Task WriteUnhandledAsync(HttpContext context) =>
        ErrorWriter.WriteResponseAsync(context, ApiErrors.Internal(), ErrorWriter.IsWorkersAiPath(context.Request.Path));
}
