namespace Policies.Evaluation;

/// <summary>Which rule gave a category its action.</summary>
public enum FindingReason
{
    /// <summary>The category's action: it has no threshold, or the unsafe probability is at or above it.</summary>
    Action,

    /// <summary>The unsafe probability is below the category's threshold: the below-threshold action.</summary>
    BelowThreshold,

    /// <summary>The category has a threshold but the verdict carries no probability: the action, unweakened.</summary>
    NoProbability,

    /// <summary>The code is not in the taxonomy: the unknown-category action.</summary>
    UnknownCode,

    /// <summary>The verdict is unsafe but names no code: the unknown-category action.</summary>
    NoCode,
}
