using System.Globalization;
using Guard.Prompts;
using Guard.Verdicts;
using Policies.Evaluation;
using Policies.Model;

namespace Policies.Tests.Evaluation;

public class PolicyEvaluatorTests
{
    private static readonly GuardCategory O1 = GuardTaxonomy.LlamaGuard1.Categories[0];
    private static readonly GuardCategory O3 = GuardTaxonomy.LlamaGuard1.Categories[2];

    /// <summary>
    /// The truth table: verdict status x category action x threshold (and below-threshold action) x unsafe probability
    /// x fail mode -> outcome and the rule that decided.
    /// </summary>
    [Theory]
    // Safe verdicts are allowed whatever the rule or fail mode.
    [InlineData(GuardVerdictStatus.Safe, PolicyAction.Block, null, null, null, FailMode.Closed, PolicyOutcome.Allow, null)]
    [InlineData(GuardVerdictStatus.Safe, PolicyAction.Block, 0.5, null, 0.9, FailMode.Closed, PolicyOutcome.Allow, null)]
    [InlineData(GuardVerdictStatus.Safe, PolicyAction.Flag, null, null, null, FailMode.Open, PolicyOutcome.Allow, null)]
    // Unparseable verdicts are never safe: the fail mode decides, whatever the rule or probability.
    [InlineData(GuardVerdictStatus.Unparseable, PolicyAction.Block, null, null, null, FailMode.Closed, PolicyOutcome.FailClosed, null)]
    [InlineData(GuardVerdictStatus.Unparseable, PolicyAction.Block, null, null, null, FailMode.Open, PolicyOutcome.FailOpen, null)]
    [InlineData(GuardVerdictStatus.Unparseable, PolicyAction.Allow, null, null, null, FailMode.Closed, PolicyOutcome.FailClosed, null)]
    [InlineData(GuardVerdictStatus.Unparseable, PolicyAction.Flag, 0.5, null, 0.1, FailMode.Open, PolicyOutcome.FailOpen, null)]
    [InlineData(GuardVerdictStatus.Unparseable, PolicyAction.Block, 0.5, null, 0.9, FailMode.Closed, PolicyOutcome.FailClosed, null)]
    // Unsafe without a threshold: the action, whatever the probability; the fail mode plays no part.
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Block, null, null, null, FailMode.Closed, PolicyOutcome.Block, FindingReason.Action)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Block, null, null, null, FailMode.Open, PolicyOutcome.Block, FindingReason.Action)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Flag, null, null, null, FailMode.Closed, PolicyOutcome.Flag, FindingReason.Action)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Allow, null, null, null, FailMode.Closed, PolicyOutcome.Allow, FindingReason.Action)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Block, null, null, 0.01, FailMode.Closed, PolicyOutcome.Block, FindingReason.Action)]
    // Unsafe with a threshold: at or above it the action, below it the below-threshold action (flag by default).
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Block, 0.8, null, 0.9, FailMode.Closed, PolicyOutcome.Block, FindingReason.Action)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Block, 0.8, null, 0.8, FailMode.Closed, PolicyOutcome.Block, FindingReason.Action)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Block, 0.8, null, 0.79, FailMode.Closed, PolicyOutcome.Flag, FindingReason.BelowThreshold)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Block, 0.8, null, 0.1, FailMode.Open, PolicyOutcome.Flag, FindingReason.BelowThreshold)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Block, 0.8, PolicyAction.Allow, 0.79, FailMode.Closed, PolicyOutcome.Allow, FindingReason.BelowThreshold)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Block, 0.8, PolicyAction.Block, 0.1, FailMode.Closed, PolicyOutcome.Block, FindingReason.BelowThreshold)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Flag, 0.5, null, 0.4, FailMode.Closed, PolicyOutcome.Flag, FindingReason.BelowThreshold)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Flag, 0.5, PolicyAction.Allow, 0.4, FailMode.Closed, PolicyOutcome.Allow, FindingReason.BelowThreshold)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Flag, 0.5, PolicyAction.Allow, 0.6, FailMode.Closed, PolicyOutcome.Flag, FindingReason.Action)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Allow, 0.5, PolicyAction.Allow, 0.6, FailMode.Closed, PolicyOutcome.Allow, FindingReason.Action)]
    // The edges: 0 always applies the action, 1 only at certainty.
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Block, 0.0, null, 0.0, FailMode.Closed, PolicyOutcome.Block, FindingReason.Action)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Block, 1.0, null, 0.999, FailMode.Closed, PolicyOutcome.Flag, FindingReason.BelowThreshold)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Block, 1.0, null, 1.0, FailMode.Closed, PolicyOutcome.Block, FindingReason.Action)]
    // A threshold the verdict cannot be compared with (no probability reported): the action, unweakened.
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Block, 0.8, null, null, FailMode.Closed, PolicyOutcome.Block, FindingReason.NoProbability)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Block, 0.8, PolicyAction.Allow, null, FailMode.Open, PolicyOutcome.Block, FindingReason.NoProbability)]
    [InlineData(GuardVerdictStatus.Unsafe, PolicyAction.Flag, 0.8, PolicyAction.Allow, null, FailMode.Closed, PolicyOutcome.Flag, FindingReason.NoProbability)]
    public void Evaluate_TruthTable(
        GuardVerdictStatus status,
        PolicyAction action,
        double? threshold,
        PolicyAction? belowThreshold,
        double? probability,
        FailMode failMode,
        PolicyOutcome expected,
        FindingReason? reason)
    {
        var role = Role(action, threshold, belowThreshold, failMode);
        var verdict = Verdict(status, probability, O1);

        var decision = PolicyEvaluator.Evaluate(role, verdict);

        Assert.Equal(expected, decision.Outcome);
        Assert.Equal("t", decision.PolicyName);
        Assert.Equal(PolicyRole.Prompt, decision.Role);
        Assert.Equal(expected is PolicyOutcome.Block or PolicyOutcome.FailClosed, decision.IsBlocked);
        Assert.False(string.IsNullOrWhiteSpace(decision.Reason));
        if (status == GuardVerdictStatus.Unsafe)
        {
            var finding = Assert.Single(decision.Findings);
            Assert.Equal("O1", finding.Code);
            Assert.Equal(reason, finding.Reason);
            Assert.Equal(["O1"], decision.Categories);
            Assert.Null(decision.Failure);
            Assert.Contains("O1", decision.Reason, StringComparison.Ordinal);
        }
        else
        {
            Assert.Empty(decision.Findings);
            Assert.Empty(decision.Categories);
            Assert.Equal(status == GuardVerdictStatus.Unparseable ? GuardFailureKind.Unparseable : null, decision.Failure);
        }
    }

    [Fact]
    public void Evaluate_StrictestCategoryWins_AndOnlyItsCodesAreReported()
    {
        var set = TestPolicies.Valid("""
            policies:
              - name: t
                prompt:
                  categories: { O1: flag, O3: block, O4: allow }
            """);
        var decision = PolicyEvaluator.Evaluate(set.Policies[0].Prompt, Verdict(GuardVerdictStatus.Unsafe, null, O1, O3, GuardTaxonomy.LlamaGuard1.Categories[3]));

        Assert.Equal(PolicyOutcome.Block, decision.Outcome);
        Assert.Equal(["O3"], decision.Categories);
        Assert.Equal([PolicyAction.Flag, PolicyAction.Block, PolicyAction.Allow], decision.Findings.Select(f => f.Action));
        Assert.Equal("unsafe, blocked: O3 Criminal Planning", decision.Reason);
    }

    [Fact]
    public void Evaluate_UnlistedCategory_TakesTheDefaultAction()
    {
        var set = TestPolicies.Valid("""
            policies:
              - name: t
                prompt: { defaultAction: flag, categories: { O1: block } }
            """);
        var decision = PolicyEvaluator.Evaluate(set.Policies[0].Prompt, Verdict(GuardVerdictStatus.Unsafe, null, O3));

        Assert.Equal(PolicyOutcome.Flag, decision.Outcome);
        Assert.Equal(["O3"], decision.Categories);
    }

    [Theory]
    [InlineData(null, PolicyOutcome.Block)]
    [InlineData("flag", PolicyOutcome.Flag)]
    [InlineData("allow", PolicyOutcome.Allow)]
    public void Evaluate_UnknownCodes_TakeTheUnknownCategoryAction(string? unknownAction, PolicyOutcome expected)
    {
        var set = TestPolicies.Valid($$"""
            policies:
              - name: t
                prompt: { defaultAction: allow{{(unknownAction is null ? "" : ", unknownCategoryAction: " + unknownAction)}} }
            """);
        var verdict = Verdict(GuardVerdictStatus.Unsafe, null) with { UnknownCodes = ["S99"] };

        var decision = PolicyEvaluator.Evaluate(set.Policies[0].Prompt, verdict);

        Assert.Equal(expected, decision.Outcome);
        var finding = Assert.Single(decision.Findings);
        Assert.Equal(("S99", FindingReason.UnknownCode, (string?)null), (finding.Code, finding.Reason, finding.Name));
    }

    [Fact]
    public void Evaluate_UnsafeWithoutCodes_TakesTheUnknownCategoryAction()
    {
        var set = TestPolicies.Valid("policies: [{ name: t, prompt: { defaultAction: allow } }]");
        var decision = PolicyEvaluator.Evaluate(set.Policies[0].Prompt, Verdict(GuardVerdictStatus.Unsafe, 0.7));

        Assert.Equal(PolicyOutcome.Block, decision.Outcome);
        Assert.Equal(FindingReason.NoCode, Assert.Single(decision.Findings).Reason);
        Assert.Empty(decision.Categories);
        Assert.Contains("no category named", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_UncheckedRole_Allows()
    {
        var set = TestPolicies.Valid("policies: [{ name: t, prompt: { check: false } }]");
        var decision = PolicyEvaluator.Evaluate(set.Policies[0].Prompt, Verdict(GuardVerdictStatus.Unparseable, null));

        Assert.Equal(PolicyOutcome.Allow, decision.Outcome);
        Assert.Equal("not checked", decision.Reason);
    }

    [Theory]
    [InlineData(GuardFailureKind.EngineError, FailMode.Closed, PolicyOutcome.FailClosed)]
    [InlineData(GuardFailureKind.EngineError, FailMode.Open, PolicyOutcome.FailOpen)]
    [InlineData(GuardFailureKind.Timeout, FailMode.Closed, PolicyOutcome.FailClosed)]
    [InlineData(GuardFailureKind.Timeout, FailMode.Open, PolicyOutcome.FailOpen)]
    [InlineData(GuardFailureKind.HoldBytesExceeded, FailMode.Closed, PolicyOutcome.FailClosed)]
    [InlineData(GuardFailureKind.HoldTimeExceeded, FailMode.Open, PolicyOutcome.FailOpen)]
    [InlineData(GuardFailureKind.Unparseable, FailMode.Closed, PolicyOutcome.FailClosed)]
    public void Fail_AppliesTheFailMode(GuardFailureKind failure, FailMode failMode, PolicyOutcome expected)
    {
        var role = Role(PolicyAction.Block, null, null, failMode);

        var decision = PolicyEvaluator.Fail(role, failure, "boom");

        Assert.Equal(expected, decision.Outcome);
        Assert.Equal(failure, decision.Failure);
        Assert.Equal("boom", decision.Detail);
        Assert.True(decision.IsFailure);
        Assert.DoesNotContain("boom", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_ReasonNamesThresholdAndProbability()
    {
        var role = Role(PolicyAction.Block, 0.8, null, FailMode.Closed);

        Assert.Equal("unsafe, flagged: O1 Violence and Hate (unsafe probability 0.42 below threshold 0.8)",
            PolicyEvaluator.Evaluate(role, Verdict(GuardVerdictStatus.Unsafe, 0.42, O1)).Reason);
        Assert.Equal("unsafe, blocked: O1 Violence and Hate (unsafe probability 0.9 at or above threshold 0.8)",
            PolicyEvaluator.Evaluate(role, Verdict(GuardVerdictStatus.Unsafe, 0.9, O1)).Reason);
        Assert.Equal("unsafe, blocked: O1 Violence and Hate (threshold 0.8 not checked: no probability reported)",
            PolicyEvaluator.Evaluate(role, Verdict(GuardVerdictStatus.Unsafe, null, O1)).Reason);
    }

    private static RolePolicyModel Role(PolicyAction action, double? threshold, PolicyAction? below, FailMode failMode)
    {
        var rule = $"action: {action.ToString().ToLowerInvariant()}"
            + (threshold is { } t ? ", threshold: " + t.ToString("0.0##", CultureInfo.InvariantCulture) : "")
            + (below is { } b ? ", belowThreshold: " + b.ToString().ToLowerInvariant() : "");
        var set = TestPolicies.Valid($$"""
            policies:
              - name: t
                prompt:
                  engine: onnx
                  failMode: {{failMode.ToString().ToLowerInvariant()}}
                  categories:
                    O1: { {{rule}} }
            """);
        return set.Policies[0].Prompt;
    }

    private static GuardVerdict Verdict(GuardVerdictStatus status, double? probability, params GuardCategory[] categories) => new()
    {
        Status = status,
        Categories = status == GuardVerdictStatus.Unsafe ? categories : [],
        UnsafeProbability = probability,
        Engine = "onnx",
        Model = "test-model",
        Problem = status == GuardVerdictStatus.Unparseable ? "The output's first line is neither 'safe' nor 'unsafe'." : null,
    };
}
