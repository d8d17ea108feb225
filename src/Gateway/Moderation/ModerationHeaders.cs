using Microsoft.AspNetCore.Http;

namespace Gateway.Moderation;

/// <summary>Response metadata that tells the client which policy ran and what it decided (docs/api.md). Added as the
/// response starts, so they are on every answer, error responses included, and never carry content.</summary>
internal static class ModerationHeaders
{
    public const string Policy = "x-moderation-policy";
    public const string Prompt = "x-moderation-prompt";
    public const string PromptCategories = "x-moderation-prompt-categories";
    public const string Response = "x-moderation-response";
    public const string ResponseCategories = "x-moderation-response-categories";
    public const string Stream = "x-moderation-stream";
    public const string PromptCache = "x-moderation-prompt-cache";
    public const string ResponseCache = "x-moderation-response-cache";

    /// <summary>The prompt check's outcome, and the policy.</summary>
    public static void Add(HttpContext context, ModerationDecision decision) => OnStarting(context, decision, Prompt, PromptCategories, PromptCache);

    /// <summary>A unary response check's outcome. Added as the response starts, like the prompt's, so an error answer
    /// (2017, or the 503 of a closed fail mode), whose writer clears the headers set before it, carries it too.</summary>
    public static void AddResponse(HttpContext context, ModerationDecision decision) => OnStarting(context, decision, Response, ResponseCategories, ResponseCache);

    /// <summary>How a stream is moderated (<c>windowed</c>, <c>buffered</c>, <c>audit</c>); its outcome is in the stream's
    /// end, since headers go out before the text is judged.</summary>
    public static void AddStream(HttpContext context, string mode)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.OnStarting(static state =>
        {
            var (response, mode) = ((HttpResponse, string))state;
            response.Headers[Stream] = mode;
            return Task.CompletedTask;
        }, (context.Response, mode));
    }

    private static void OnStarting(HttpContext context, ModerationDecision decision, string outcomeHeader, string categoriesHeader, string cacheHeader)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (decision.Outcome is null)
        {
            return;
        }
        context.Response.OnStarting(static state =>
        {
            var (response, decision, outcomeHeader, categoriesHeader, cacheHeader) = ((HttpResponse, ModerationDecision, string, string, string))state;
            if (decision.Cache is { } cache)
            {
                response.Headers[cacheHeader] = cache;
            }
            if (decision.Policy is { } policy)
            {
                response.Headers[Policy] = policy;
            }
            response.Headers[outcomeHeader] = decision.Outcome;
            if (decision.Categories is { Count: > 0 } categories)
            {
                response.Headers[categoriesHeader] = string.Join(',', categories);
            }
            return Task.CompletedTask;
        }, (context.Response, decision, outcomeHeader, categoriesHeader, cacheHeader));
    }
}
