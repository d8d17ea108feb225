namespace Policies.Config;

/// <summary>The rule for one category, as written (<c>S1: block</c> or <c>S1: { action: block, threshold: 0.8 }</c>).</summary>
public sealed record CategoryRuleConfig
{
    /// <summary>What to do when the verdict names the category; default: the role's default action.</summary>
    public PolicyAction? Action { get; init; }

    /// <summary>The unsafe probability from which <see cref="Action"/> applies; default: the role's threshold.</summary>
    public double? Threshold { get; init; }

    /// <summary>What to do below the threshold; default: the role's below-threshold action (flag).</summary>
    public PolicyAction? BelowThreshold { get; init; }
}
