using System.Globalization;
using System.Text;
using Guard.Verdicts;
using Policies.Model;

namespace Policies.Evaluation;

/// <summary>
/// The pure function from a role policy and a verdict to a decision (docs/policies.md#evaluation). It reads nothing
/// else: no clock, no configuration, no engine.
/// </summary>
public static class PolicyEvaluator
{
    /// <summary>Decides what to do with judged content.</summary>
    /// <param name="policy">The role policy that applies.</param>
    /// <param name="verdict">The guard's verdict.</param>
    /// <remarks>
    /// Safe: allow. Unparseable: the fail mode (never safe). Unsafe: each named category gets its rule's action, or
    /// its below-threshold action when the verdict's unsafe probability is below the rule's threshold (without a
    /// probability the action applies unweakened); unknown codes, and an unsafe verdict naming none, get the unknown
    /// category action. The strictest action wins.
    /// </remarks>
    public static PolicyDecision Evaluate(RolePolicyModel policy, GuardVerdict verdict)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(verdict);
        if (!policy.Check)
        {
            return new PolicyDecision(PolicyOutcome.Allow, policy.PolicyName, policy.Role, "not checked", [], []);
        }

        return verdict.Status switch
        {
            GuardVerdictStatus.Safe => new PolicyDecision(PolicyOutcome.Allow, policy.PolicyName, policy.Role, "safe", [], []),
            GuardVerdictStatus.Unsafe => Unsafe(policy, verdict),
            _ => Fail(policy, GuardFailureKind.Unparseable, verdict.Problem),
        };
    }

    /// <summary>Decides what to do when there is no usable verdict: the role's fail mode.</summary>
    /// <param name="policy">The role policy that applies.</param>
    /// <param name="failure">Why there is no verdict.</param>
    /// <param name="detail">More for logs (an exception message); not shown to clients.</param>
    public static PolicyDecision Fail(RolePolicyModel policy, GuardFailureKind failure, string? detail = null)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var open = policy.FailMode == FailMode.Open;
        var why = failure switch
        {
            GuardFailureKind.Unparseable => "the guard's answer could not be parsed",
            GuardFailureKind.EngineError => "the guard engine failed",
            GuardFailureKind.Timeout => $"the guard did not answer within {policy.Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s",
            GuardFailureKind.HoldBytesExceeded => "the stream held more text than its hold bound allows",
            GuardFailureKind.HoldTimeExceeded => "the stream held text longer than its hold bound allows",
            _ => "no usable verdict",
        };
        return new PolicyDecision(
            open ? PolicyOutcome.FailOpen : PolicyOutcome.FailClosed,
            policy.PolicyName,
            policy.Role,
            why + (open ? "; fail mode open: passed unchecked" : "; fail mode closed: stopped"),
            [],
            [],
            failure,
            detail);
    }

    private static PolicyDecision Unsafe(RolePolicyModel policy, GuardVerdict verdict)
    {
        var p = verdict.UnsafeProbability;
        var findings = new List<CategoryFinding>(verdict.Categories.Count + verdict.UnknownCodes.Count);
        foreach (var category in verdict.Categories)
        {
            if (policy.Categories.TryGetValue(category.Code, out var rule))
            {
                findings.Add(Apply(category.Code, category.Name, rule, p));
            }
            else
            {
                // A category outside the policy's taxonomy (the engine judged with other categories) is unknown here.
                findings.Add(new CategoryFinding(category.Code, category.Name, policy.UnknownCategoryAction, FindingReason.UnknownCode, null, p));
            }
        }

        foreach (var code in verdict.UnknownCodes)
        {
            findings.Add(new CategoryFinding(code, null, policy.UnknownCategoryAction, FindingReason.UnknownCode, null, p));
        }

        if (findings.Count == 0)
        {
            findings.Add(new CategoryFinding(string.Empty, null, policy.UnknownCategoryAction, FindingReason.NoCode, null, p));
        }

        var strictest = findings.Max(f => f.Action);
        var outcome = strictest switch
        {
            PolicyAction.Block => PolicyOutcome.Block,
            PolicyAction.Flag => PolicyOutcome.Flag,
            _ => PolicyOutcome.Allow,
        };
        var deciding = findings.Where(f => f.Action == strictest).ToArray();
        var categories = deciding.Where(f => f.Code.Length > 0).Select(f => f.Code).ToArray();
        return new PolicyDecision(outcome, policy.PolicyName, policy.Role, Describe(outcome, deciding), findings, categories);
    }

    private static CategoryFinding Apply(string code, string name, CategoryRule rule, double? p)
    {
        if (rule.Threshold is not { } threshold)
        {
            return new CategoryFinding(code, name, rule.Action, FindingReason.Action, null, p);
        }

        if (p is not { } probability)
        {
            return new CategoryFinding(code, name, rule.Action, FindingReason.NoProbability, threshold, null);
        }

        return probability >= threshold
            ? new CategoryFinding(code, name, rule.Action, FindingReason.Action, threshold, probability)
            : new CategoryFinding(code, name, rule.BelowThreshold, FindingReason.BelowThreshold, threshold, probability);
    }

    private static string Describe(PolicyOutcome outcome, CategoryFinding[] deciding)
    {
        var text = new StringBuilder(outcome switch
        {
            PolicyOutcome.Block => "unsafe, blocked: ",
            PolicyOutcome.Flag => "unsafe, flagged: ",
            _ => "unsafe, allowed by policy: ",
        });
        for (var i = 0; i < deciding.Length; i++)
        {
            var f = deciding[i];
            text.Append(i == 0 ? "" : "; ").Append(f.Reason switch
            {
                FindingReason.NoCode => "no category named (unknown-category action)",
                FindingReason.UnknownCode => $"{f.Code} (not in the taxonomy; unknown-category action)",
                FindingReason.BelowThreshold => $"{f.Code} {f.Name} (unsafe probability {F(f.Probability)} below threshold {F(f.Threshold)})",
                FindingReason.NoProbability => $"{f.Code} {f.Name} (threshold {F(f.Threshold)} not checked: no probability reported)",
                _ when f.Threshold is not null => $"{f.Code} {f.Name} (unsafe probability {F(f.Probability)} at or above threshold {F(f.Threshold)})",
                _ => $"{f.Code} {f.Name}",
            });
        }

        return text.ToString();
    }

    private static string F(double? value) => value?.ToString("0.###", CultureInfo.InvariantCulture) ?? "none";
}
