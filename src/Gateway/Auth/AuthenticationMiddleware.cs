using Gateway.Errors;
using Microsoft.AspNetCore.Http;

namespace Gateway.Auth;

/// <summary>The first step of every API call: a configured key, or a 401 in the surface's own error format.
/// Health, readiness and metrics endpoints are not API calls and need no key.</summary>
internal sealed class AuthenticationMiddleware(RequestDelegate next, ApiKeyAuthenticator authenticator)
{
    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        var api = path.StartsWithSegments("/ai", StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments("/client/v4", StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase);
        if (!authenticator.Enabled || !api)
        {
            context.Features.Set(CallerIdentity.Anonymous);
            return next(context);
        }
        var authorization = context.Request.Headers.Authorization;
        var caller = authorization.Count == 1 ? authenticator.Authenticate(authorization[0]) : null;
        if (caller is not null)
        {
            context.Features.Set(caller);
            return next(context);
        }
        return ErrorWriter.WriteResponseAsync(context, ApiErrors.Unauthorized(keyPresent: authorization.Count > 0), ErrorWriter.IsWorkersAiPath(path));
    }
}
