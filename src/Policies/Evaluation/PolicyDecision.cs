namespace Policies.Evaluation;

/// <summary>What a role policy made of a verdict (or of its absence), with the reason.</summary>
public sealed class PolicyDecision
{
    internal PolicyDecision(
        PolicyOutcome outcome,
        string policyName,
        PolicyRole role,
        string reason,
        IReadOnlyList<CategoryFinding> findings,
        IReadOnlyList<string> categories,
        GuardFailureKind? failure = null,
        string? detail = null)
    {
        Outcome = outcome;
        PolicyName = policyName;
        Role = role;
        Reason = reason;
        Findings = findings;
        Categories = categories;
        Failure = failure;
        Detail = detail;
    }

    /// <summary>Allow, flag, block, fail open or fail closed.</summary>
    public PolicyOutcome Outcome { get; }

    /// <summary>The policy that decided.</summary>
    public string PolicyName { get; }

    /// <summary>Prompt or response.</summary>
    public PolicyRole Role { get; }

    /// <summary>Why, in one sentence naming codes, categories, threshold and probability; never contains the judged content.</summary>
    public string Reason { get; }

    /// <summary>Every category the verdict named, with its action; empty for safe verdicts and failures.</summary>
    public IReadOnlyList<CategoryFinding> Findings { get; }

    /// <summary>The codes that produced the outcome: the blocking ones for block, the flagged ones for flag.</summary>
    public IReadOnlyList<string> Categories { get; }

    /// <summary>Why there was no usable verdict, for the fail outcomes.</summary>
    public GuardFailureKind? Failure { get; }

    /// <summary>More about a failure for logs (the parser's problem, the engine's message); not meant for clients.</summary>
    public string? Detail { get; }

    /// <summary>Whether the content must not pass: block or fail closed.</summary>
    public bool IsBlocked => Outcome is PolicyOutcome.Block or PolicyOutcome.FailClosed;

    /// <summary>Whether the decision came from the fail mode.</summary>
    public bool IsFailure => Outcome is PolicyOutcome.FailOpen or PolicyOutcome.FailClosed;

    /// <inheritdoc />
    public override string ToString() => $"{Outcome} ({PolicyName}/{Role}): {Reason}";
}
