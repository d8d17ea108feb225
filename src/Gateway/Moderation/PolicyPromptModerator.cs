using Gateway.Auth;
using Gateway.Generation;
using Gateway.Guarding;
using Gateway.Upstreams;
using Guard.Engines;
using Microsoft.Extensions.Logging;
using Policies;
using Policies.Evaluation;
using Policies.Store;

namespace Gateway.Moderation;

/// <summary>The prompt check: selects the request's policy (route, model, the caller's tenant), classifies the whole
/// conversation with the guard within the policy's timeout, and turns the verdict into allow, flag or block; no
/// usable verdict applies the policy's fail mode. The served Llama Guard model is not checked again.</summary>
internal sealed partial class PolicyPromptModerator(
    PolicyStore policies, GuardEngineProvider guard, UpstreamRegistry upstreams, TimeProvider time,
    ILogger<PolicyPromptModerator> logger) : IPromptModerator
{
    public async ValueTask<ModerationDecision> CheckPromptAsync(ModerationContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        if (upstreams.ServesGuard(request.Model))
        {
            return ModerationDecision.Allow;
        }
        var tenant = context.HttpContext.Features.Get<CallerIdentity>()?.Tenant;
        var policy = policies.Select(Route(request.Api), request.Model.Id, tenant);
        var role = policy.Prompt;
        if (!role.Check || guard.Engine is not { } engine)
        {
            return ModerationDecision.Allow with { Policy = policy.Name, Outcome = "not-checked" };
        }

        var conversation = PromptConversation.From(request);
        using var deadline = new CancellationTokenSource(role.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        PolicyDecision decision;
        try
        {
            var verdict = await engine.ClassifyAsync(conversation, linked.Token);
            decision = PolicyEvaluator.Evaluate(role, verdict);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            decision = PolicyEvaluator.Fail(role, GuardFailureKind.Timeout, $"no verdict within {role.Timeout.TotalSeconds:0.###} s");
        }
        catch (GuardEngineException ex)
        {
            decision = PolicyEvaluator.Fail(role, GuardFailureKind.EngineError, ex.Message);
        }
        if (decision.IsFailure)
        {
            LogGuardFailure(logger, policy.Name, decision.Outcome, decision.Failure?.ToString() ?? "unknown");
        }
        return Map(decision);
    }

    internal static string Route(ClientApi api) => api switch
    {
        ClientApi.OpenAiChat => PolicyRoutes.OpenAiChat,
        ClientApi.OpenAiCompletions => PolicyRoutes.OpenAiCompletions,
        _ => PolicyRoutes.WorkersAi,
    };

    private static ModerationDecision Map(PolicyDecision decision) => decision.Outcome switch
    {
        PolicyOutcome.Allow => ModerationDecision.Allow with { Policy = decision.PolicyName, Outcome = "allowed" },
        PolicyOutcome.Flag => ModerationDecision.Allow with { Policy = decision.PolicyName, Outcome = "flagged", Categories = decision.Categories },
        PolicyOutcome.FailOpen => ModerationDecision.Allow with { Policy = decision.PolicyName, Outcome = "fail-open" },
        PolicyOutcome.Block => ModerationDecision.Block(decision.Reason, decision.Categories) with { Policy = decision.PolicyName, Outcome = "blocked" },
        _ => ModerationDecision.Block(decision.Failure?.ToString() ?? "no verdict") with
        {
            Policy = decision.PolicyName,
            Outcome = "fail-closed",
            GuardUnavailable = true,
        },
    };

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Prompt check under policy {Policy} had no usable verdict: {Outcome} ({Failure})")]
    private static partial void LogGuardFailure(ILogger logger, string policy, PolicyOutcome outcome, string failure);
}
