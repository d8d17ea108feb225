using Gateway.Auth;
using Gateway.Moderation;
using Microsoft.Extensions.Logging;

namespace Gateway.Pipeline;

/// <summary>Records what moderation decided for the request, whether it was forwarded, blocked or failed: policy,
/// outcomes and categories of both checks, request id and tenant; never prompt or response text. It runs last,
/// always.</summary>
internal sealed partial class AuditStep(ILogger<AuditStep> logger)
{
    public void Record(ModerationContext context, int status)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Policy is not { } policy)
        {
            return;
        }
        var prompt = context.PromptDecision;
        var response = context.ResponseDecision;
        LogDecision(
            logger,
            policy.Name,
            context.HttpContext.TraceIdentifier,
            context.HttpContext.Features.Get<CallerIdentity>()?.Tenant ?? "",
            context.Request.Model.Id,
            status,
            prompt?.Outcome ?? "not-checked",
            Categories(prompt),
            prompt?.Cache ?? "none",
            response?.Outcome ?? "not-checked",
            Categories(response),
            response?.Cache ?? "none",
            context.StreamChecks,
            context.StreamCacheHits);
    }

    private static string Categories(ModerationDecision? decision) => decision?.Categories is { Count: > 0 } c ? string.Join(',', c) : "";

    [LoggerMessage(EventId = 6100, Level = LogLevel.Information, Message =
        "Moderation: policy {Policy}, request {RequestId}, tenant {Tenant}, model {Model}, status {Status}, prompt {PromptOutcome} [{PromptCategories}] cache {PromptCache}, response {ResponseOutcome} [{ResponseCategories}] cache {ResponseCache}, stream checks {StreamChecks} ({StreamCacheHits} from the cache)")]
    private static partial void LogDecision(
        ILogger logger, string policy, string requestId, string tenant, string model, int status,
        string promptOutcome, string promptCategories, string promptCache, string responseOutcome, string responseCategories,
        string responseCache, int streamChecks, int streamCacheHits);
}
