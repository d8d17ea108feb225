using Gateway.Caching;
using Gateway.Guarding;
using Gateway.Telemetry;
using Guard.Conversations;
using Guard.Engines;
using Guard.Verdicts;
using Microsoft.Extensions.Logging;
using Policies;
using Policies.Evaluation;
using Policies.Model;

namespace Gateway.Moderation;

/// <summary>Runs one guard check for a role policy: the conversation classified within the role's timeout, the verdict
/// evaluated by the policy, no usable verdict turned into the role's fail mode; every decision is counted, and every
/// failure logged without content.</summary>
internal sealed partial class GuardChecker(
    GuardEngineProvider guard, VerdictCache cache, GatewayMetrics metrics, TimeProvider time, ILogger<GuardChecker> logger)
{
    /// <summary>Whether a guard engine is configured; without one nothing is checked.</summary>
    public bool Available => guard.Engine is not null;

    /// <summary>The time source checks and stream hold bounds are measured with.</summary>
    public TimeProvider Time => time;

    /// <summary>Classifies <paramref name="conversation"/> under <paramref name="role"/> with the role's engine (the
    /// default when it names none); an engine that is not configured is an engine error (the role's fail mode).</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired (the client left, or the
    /// caller no longer needs the verdict); the role's timeout is not an exception but a fail-mode decision.</exception>
    /// <param name="role">The role policy.</param>
    /// <param name="conversation">What is judged.</param>
    /// <param name="tenant">The caller's tenant: the scope of its cached verdicts.</param>
    /// <param name="cancellationToken">Ends the check.</param>
    public Task<GuardCheck> CheckAsync(RolePolicyModel role, GuardConversation conversation, string? tenant, CancellationToken cancellationToken) =>
        CheckAsync(role, conversation, tenant, enforced: true, cancellationToken);

    /// <summary>Classifies <paramref name="conversation"/> under <paramref name="role"/>, as
    /// <see cref="CheckAsync(RolePolicyModel, GuardConversation, string?, CancellationToken)"/>; each check is a
    /// <c>run_guardrail</c> span and a <c>gateway.guard.duration</c> measurement.</summary>
    /// <param name="role">The role policy.</param>
    /// <param name="conversation">What is judged.</param>
    /// <param name="tenant">The caller's tenant: the scope of its cached verdicts.</param>
    /// <param name="enforced">Whether the decision is enforced; false for a stream in audit mode, which only records it.</param>
    /// <param name="cancellationToken">Ends the check.</param>
    public Task<GuardCheck> CheckAsync(
        RolePolicyModel role, GuardConversation conversation, string? tenant, bool enforced, CancellationToken cancellationToken) =>
        CheckAsync(role, conversation, tenant, enforced, null, cancellationToken);

    /// <summary>Opens a session for one stream's checks under <paramref name="role"/> when the role's engine keeps a
    /// stream's work between its windows (<see cref="IGuardStreamEngine"/>, docs/adr/012-stream-sessions.md); null
    /// otherwise. The caller disposes it when the stream ends.</summary>
    /// <param name="role">The role policy.</param>
    public IGuardStreamSession? OpenStream(RolePolicyModel role)
    {
        ArgumentNullException.ThrowIfNull(role);
        return guard.Engine is not null && guard.Get(role.Engine) is IGuardStreamEngine streams ? streams.OpenStream() : null;
    }

    /// <summary>Classifies one window of a stream, as
    /// <see cref="CheckAsync(RolePolicyModel, GuardConversation, string?, bool, CancellationToken)"/>; a verdict the
    /// cache does not have comes from the stream's session when it has one.</summary>
    /// <param name="role">The role policy.</param>
    /// <param name="conversation">What is judged.</param>
    /// <param name="tenant">The caller's tenant: the scope of its cached verdicts.</param>
    /// <param name="enforced">Whether the decision is enforced; false for a stream in audit mode, which only records it.</param>
    /// <param name="session">The stream's session from <see cref="OpenStream"/>, or null.</param>
    /// <param name="cancellationToken">Ends the check.</param>
    public async Task<GuardCheck> CheckAsync(
        RolePolicyModel role, GuardConversation conversation, string? tenant, bool enforced, IGuardStreamSession? session, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(role);
        ArgumentNullException.ThrowIfNull(conversation);
        if (guard.Engine is null)
        {
            throw new InvalidOperationException("No guard engine is configured.");
        }
        var started = time.GetTimestamp();
        var engine = guard.Get(role.Engine);
        var engineName = engine?.Name ?? role.Engine ?? "default";
        using var span = StartSpan(role, engineName, engine?.Model);
        if (engine is null)
        {
            // Validation only lets policies name configured engines; a reload racing a configuration change could not.
            var missing = PolicyEvaluator.Fail(role, GuardFailureKind.EngineError, $"the guard engine '{role.Engine}' is not configured");
            Finish(span, engineName, missing, CacheUse.Off, null, enforced, started);
            return new GuardCheck(missing, CacheUse.Off);
        }
        if (session is not null)
        {
            engine = new StreamSessionEngine(engine, session);
        }
        // A policy's own taxonomy is rendered into this call's prompt (docs/guard.md#taxonomies).
        conversation = conversation.WithTaxonomy(role.CustomTaxonomy ? role.Taxonomy : null);
        using var deadline = new CancellationTokenSource(role.Timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        PolicyDecision decision;
        GuardVerdict? verdict = null;
        var use = CacheUse.Off;
        try
        {
            (verdict, use) = await cache.ClassifyAsync(engine, conversation, tenant, linked.Token);
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
        catch (ArgumentException ex)
        {
            // The engine refused the conversation (a policy taxonomy too long for its context): no verdict, never a pass.
            decision = PolicyEvaluator.Fail(role, GuardFailureKind.EngineError, ex.Message);
        }
        catch (OperationCanceledException) when (span is not null)
        {
            span.SetTag(SemanticNames.General.ErrorType, "canceled");
            throw;
        }
        Finish(span, engineName, decision, use, verdict, enforced, started);
        return new GuardCheck(decision, use);
    }

    /// <summary>The role's fail mode for a failure found outside the guard (a stream's hold bound), counted and logged.</summary>
    public PolicyDecision Fail(RolePolicyModel role, GuardFailureKind failure)
    {
        var decision = PolicyEvaluator.Fail(role, failure);
        Record(decision);
        return decision;
    }

    private void Record(PolicyDecision decision)
    {
        metrics.ModerationDecided(decision.PolicyName, Role(decision.Role), Outcome(decision.Outcome));
        if (decision.IsFailure)
        {
            LogNoVerdict(logger, Role(decision.Role), decision.PolicyName, Outcome(decision.Outcome), decision.Failure?.ToString() ?? "unknown");
        }
        else if (decision.Outcome == PolicyOutcome.Block)
        {
            LogBlocked(logger, Role(decision.Role), decision.PolicyName, string.Join(',', decision.Categories));
        }
    }

    /// <summary>A check's decision as the traffic path reports it, with how it used the cache.</summary>
    public static ModerationDecision ToModeration(GuardCheck check) => ToModeration(check.Decision) with
    {
        Cache = check.Cache switch { CacheUse.Hit => "hit", CacheUse.Miss => "miss", _ => null },
    };

    /// <summary>The decision as the traffic path reports it (response metadata, status codes, terminal signals).</summary>
    public static ModerationDecision ToModeration(PolicyDecision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        return decision.Outcome switch
        {
            PolicyOutcome.Allow => ModerationDecision.Allow with { Policy = decision.PolicyName, Outcome = SemanticNames.Outcomes.Allowed },
            PolicyOutcome.Flag => ModerationDecision.Allow with { Policy = decision.PolicyName, Outcome = SemanticNames.Outcomes.Flagged, Categories = decision.Categories },
            PolicyOutcome.FailOpen => ModerationDecision.Allow with { Policy = decision.PolicyName, Outcome = SemanticNames.Outcomes.FailOpen },
            PolicyOutcome.Block => ModerationDecision.Block(decision.Reason, decision.Categories) with
            {
                Policy = decision.PolicyName,
                Outcome = SemanticNames.Outcomes.Blocked,
                CategoryTags = CategoryTags(decision),
            },
            _ => ModerationDecision.Block(decision.Failure?.ToString() ?? "no verdict") with
            {
                Policy = decision.PolicyName,
                Outcome = SemanticNames.Outcomes.FailClosed,
                GuardUnavailable = true,
            },
        };
    }

    /// <summary>The outcome's name in metadata, metrics and logs.</summary>
    public static string Outcome(PolicyOutcome outcome) => outcome switch
    {
        PolicyOutcome.Allow => SemanticNames.Outcomes.Allowed,
        PolicyOutcome.Flag => SemanticNames.Outcomes.Flagged,
        PolicyOutcome.Block => SemanticNames.Outcomes.Blocked,
        PolicyOutcome.FailOpen => SemanticNames.Outcomes.FailOpen,
        _ => SemanticNames.Outcomes.FailClosed,
    };

    private static string Role(PolicyRole role) => role == PolicyRole.Prompt ? SemanticNames.Gateway.RolePrompt : SemanticNames.Gateway.RoleResponse;

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "The {Role} check under policy {Policy} had no usable verdict: {Outcome} ({Failure})")]
    private static partial void LogNoVerdict(ILogger logger, string role, string policy, string outcome, string failure);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "The {Role} check under policy {Policy} blocked: {Categories}")]
    private static partial void LogBlocked(ILogger logger, string role, string policy, string categories);
}

/// <summary>One guard check's decision, and whether its verdict came from the cache.</summary>
internal readonly record struct GuardCheck(PolicyDecision Decision, CacheUse Cache);
