using Microsoft.AspNetCore.Http;

namespace Gateway.Moderation;

/// <summary>Response metadata that tells the client which policy ran and what it decided (docs/api.md). Added as the
/// response starts, so they are on every answer, error responses included, and never carry content.</summary>
internal static class ModerationHeaders
{
    public const string Policy = "x-moderation-policy";
    public const string Prompt = "x-moderation-prompt";
    public const string PromptCategories = "x-moderation-prompt-categories";

    public static void Add(HttpContext context, ModerationDecision decision)
    {
        if (decision.Outcome is null)
        {
            return;
        }
        context.Response.OnStarting(static state =>
        {
            var (response, decision) = ((HttpResponse, ModerationDecision))state;
            if (decision.Policy is { } policy)
            {
                response.Headers[Policy] = policy;
            }
            response.Headers[Prompt] = decision.Outcome;
            if (decision.Categories is { Count: > 0 } categories)
            {
                response.Headers[PromptCategories] = string.Join(',', categories);
            }
            return Task.CompletedTask;
        }, (context.Response, decision));
    }
}
