using System.Diagnostics;
using Gateway.Caching;
using Gateway.Telemetry;
using Guard.Verdicts;
using Policies;
using Policies.Evaluation;
using Policies.Model;
using G = Gateway.Telemetry.SemanticNames.Gateway;
using R = Gateway.Telemetry.SemanticNames.Guardrail;

namespace Gateway.Moderation;

// Each guard check's telemetry: a run_guardrail span (provisional GenAI guardrail names, SemanticNames.Guardrail),
// the guard latency histogram, and the decision and block counters (Record).
internal sealed partial class GuardChecker
{
    /// <summary>Starts the check's span, a child of the current one (the API call's), with the attributes known before
    /// the check; null when nobody listens.</summary>
    private static Activity? StartSpan(RolePolicyModel role, string engineName, string? model)
    {
        if (!GatewayMetrics.ActivitySource.HasListeners())
        {
            return null;
        }
        var span = GatewayMetrics.ActivitySource.StartActivity(R.RunGuardrail + " " + engineName, ActivityKind.Internal);
        if (span is null)
        {
            return null;
        }
        span.SetTag(SemanticNames.GenAi.OperationName, R.RunGuardrail);
        span.SetTag(R.ComponentName, engineName);
        span.SetTag(R.TargetType, role.Role == PolicyRole.Prompt ? R.TargetInput : R.TargetOutput);
        span.SetTag(R.TargetSubtype, R.SubtypeLlm);
        span.SetTag(R.PolicyId, role.PolicyName);
        span.SetTag(G.Policy, role.PolicyName);
        span.SetTag(G.Role, Role(role.Role));
        span.SetTag(G.GuardEngine, engineName);
        if (model is not null)
        {
            span.SetTag(G.GuardModel, model);
        }
        return span;
    }

    /// <summary>Records a finished check: the decision counters, the latency histogram and the span's results.</summary>
    private void Finish(Activity? span, string engineName, PolicyDecision decision, CacheUse use, GuardVerdict? verdict, bool enforced, long started)
    {
        var elapsed = time.GetElapsedTime(started);
        Record(decision);
        var outcome = Outcome(decision.Outcome);
        metrics.GuardChecked(engineName, Role(decision.Role), use == CacheUse.Hit, outcome, elapsed);
        if (span is null)
        {
            return;
        }
        var action = !enforced ? R.ActionAudit : decision.IsBlocked ? R.ActionBlock : R.ActionAllow;
        var verdictType = decision.Outcome switch
        {
            PolicyOutcome.Allow => R.VerdictAllow,
            PolicyOutcome.Flag => R.VerdictWarn,
            PolicyOutcome.Block => R.VerdictDeny,
            _ => null,
        };
        if (verdictType is not null)
        {
            span.SetTag(R.VerdictType, verdictType);
        }
        if (decision.Outcome != PolicyOutcome.Allow)
        {
            span.SetTag(R.VerdictReason, decision.Reason);
        }
        span.SetTag(R.ActionType, action);
        span.SetTag(G.Outcome, outcome);
        span.SetTag(G.CacheResult, use switch { CacheUse.Hit => SemanticNames.Metrics.Hit, CacheUse.Miss => SemanticNames.Metrics.Miss, _ => "off" });
        span.SetTag(G.GuardLatency, elapsed.TotalSeconds);
        if (verdict is not null)
        {
            span.SetTag(G.GuardVerdict, verdict.Status switch
            {
                GuardVerdictStatus.Safe => "safe",
                GuardVerdictStatus.Unsafe => "unsafe",
                _ => "unparseable",
            });
            if (verdict.UnsafeProbability is { } probability)
            {
                span.SetTag(R.RiskScore, probability);
            }
            if (!string.Equals(verdict.Model, span.GetTagItem(G.GuardModel) as string, StringComparison.Ordinal))
            {
                span.SetTag(G.GuardModel, verdict.Model);
            }
        }
        if (decision.Categories.Count > 0)
        {
            span.SetTag(G.GuardCategories, decision.Categories.ToArray());
            foreach (var code in decision.Categories)
            {
                span.AddEvent(new ActivityEvent(R.FindingEvent, tags: new ActivityTagsCollection
                {
                    [R.RiskCategory] = code,
                    [R.PolicyId] = decision.PolicyName,
                    [R.TargetType] = decision.Role == PolicyRole.Prompt ? R.TargetInput : R.TargetOutput,
                    [R.ActionType] = action,
                }));
            }
        }
        if (decision.IsFailure)
        {
            var error = FailureType(decision.Failure);
            span.SetTag(SemanticNames.General.ErrorType, error);
            span.SetStatus(ActivityStatusCode.Error, error);
        }
    }

    /// <summary>The <c>category</c> tags of a blocked decision: its codes the policy's taxonomy knows, <c>unknown</c>
    /// for others (the model's own words never become tag values), <c>none</c> for an empty code.</summary>
    private static List<string> CategoryTags(PolicyDecision decision)
    {
        var tags = new List<string>(decision.Categories.Count);
        foreach (var code in decision.Categories)
        {
            if (code.Length == 0)
            {
                tags.Add(SemanticNames.Metrics.NoCategory);
                continue;
            }
            var known = false;
            foreach (var finding in decision.Findings)
            {
                if (finding.Name is not null && string.Equals(finding.Code, code, StringComparison.Ordinal))
                {
                    known = true;
                    break;
                }
            }
            tags.Add(known ? code : SemanticNames.Metrics.UnknownCategory);
        }
        return tags;
    }

    /// <summary>The <c>error.type</c> of a check without a usable verdict.</summary>
    private static string FailureType(GuardFailureKind? failure) => failure switch
    {
        GuardFailureKind.Unparseable => "unparseable",
        GuardFailureKind.Timeout => "timeout",
        GuardFailureKind.HoldBytesExceeded => "hold_bytes_exceeded",
        GuardFailureKind.HoldTimeExceeded => "hold_time_exceeded",
        GuardFailureKind.EngineError => "engine_error",
        _ => "_OTHER",
    };
}
