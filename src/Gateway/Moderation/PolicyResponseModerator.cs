using Gateway.Guarding;
using Gateway.Telemetry;
using Gateway.Tokens;
using Gateway.Upstreams;
using Guard.Conversations;
using Guard.Prompts;
using Guard.Tokenizers;
using Policies.Model;

namespace Gateway.Moderation;

/// <summary>The response check: a unary answer's text and every tool call, or a stream's text so far, classified in
/// the context of the conversation under the request's policy. An exempt request (no policy), an unchecked role and an
/// answer with nothing to judge are not checked.</summary>
internal sealed class PolicyResponseModerator(GuardChecker checker, GuardEngineProvider guard, PromptTokenizers tokenizers) : IResponseModerator
{
    public async ValueTask<ModerationDecision> CheckResponseAsync(ModerationContext context, GenerationResult result, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(result);
        if (Role(context) is not { } role)
        {
            return NotChecked(context);
        }
        var calls = result.ToolCalls.Count == 0 ? [] : result.ToolCalls.Select(c => new GuardToolCall(c.Name, c.Arguments)).ToList();
        if (PromptConversation.WithResponse(context.PromptMessages, result.Text, calls) is not { } conversation)
        {
            return NotChecked(context);
        }
        return GuardChecker.ToModeration(await checker.CheckAsync(role, conversation, context.Tenant, cancellationToken));
    }

    public StreamModeration BeginStream(ModerationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (Role(context) is not { } role)
        {
            return StreamModeration.None;
        }
        var settings = role.Streaming ?? StreamingSettings.Default;
        var prompt = context.PromptMessages;
        var tenant = context.Tenant;
        // Audit mode records its checks without enforcing them.
        var enforced = settings.Mode != Policies.StreamingMode.Audit;
        // Windows of one stream continue one guard session where the engine keeps one (docs/adr/012-stream-sessions.md);
        // a buffered stream has a single check, which a session would not shorten.
        var session = settings.Mode == Policies.StreamingMode.Buffered ? null : checker.OpenStream(role);
        return new StreamModeration(
            role.PolicyName,
            settings,
            async (snapshot, cancellationToken) =>
                PromptConversation.WithResponse(prompt, snapshot.Text, snapshot.ToolCalls) is { } conversation
                    ? GuardChecker.ToModeration(await checker.CheckAsync(role, conversation, tenant, enforced, session, cancellationToken))
                    : ModerationDecision.Allow with { Policy = role.PolicyName, Outcome = SemanticNames.Outcomes.NotChecked },
            failure => GuardChecker.ToModeration(checker.Fail(role, failure)),
            settings.Unit == Policies.WindowUnit.Tokens ? TokenCounter(role) : null,
            session);
    }

    private RolePolicyModel? Role(ModerationContext context) =>
        context.Policy is { Response: { Check: true } role } && checker.Available ? role : null;

    private static ModerationDecision NotChecked(ModerationContext context) => context.Policy is { } policy
        ? ModerationDecision.Allow with { Policy = policy.Name, Outcome = SemanticNames.Outcomes.NotChecked }
        : ModerationDecision.Allow;

    /// <summary>Counts tokens with the tokenizer of the role's engine's family.</summary>
    private Func<string, int>? TokenCounter(RolePolicyModel role)
    {
        var family = guard.Get(role.Engine)?.Family switch
        {
            GuardFamily.LlamaGuard1 => TokenizerFamilies.Llama2,
            null => null,
            _ => TokenizerFamilies.Llama3,
        };
        return family is not null && tokenizers.Get(family) is { } tokenizer ? text => tokenizer.CountTokens(text) : null;
    }
}
