using Gateway.Telemetry;

namespace Gateway.Moderation;

/// <summary>The prompt check: the whole conversation classified under the request's policy (chosen by the
/// policy selection step), turned into allow, flag or block; no usable verdict applies the policy's
/// fail mode. An exempt request (no policy) is not checked.</summary>
internal sealed class PolicyPromptModerator(GuardChecker checker) : IPromptModerator
{
    public async ValueTask<ModerationDecision> CheckPromptAsync(ModerationContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Policy is not { } policy)
        {
            return ModerationDecision.Allow;
        }
        if (!policy.Prompt.Check || !checker.Available)
        {
            return ModerationDecision.Allow with { Policy = policy.Name, Outcome = SemanticNames.Outcomes.NotChecked };
        }
        var check = await checker.CheckAsync(policy.Prompt, PromptConversation.From(context), context.Tenant, cancellationToken);
        return GuardChecker.ToModeration(check);
    }
}
