namespace Policies.Model;

/// <summary>What a role policy does when a verdict names one category.</summary>
/// <param name="Action">The action at or above <paramref name="Threshold"/>, or always when there is no threshold.</param>
/// <param name="Threshold">
/// The unsafe probability from which <paramref name="Action"/> applies; <see langword="null"/>: always. When the verdict
/// carries no probability the threshold cannot be checked and <paramref name="Action"/> applies.
/// </param>
/// <param name="BelowThreshold">The action when the verdict's unsafe probability is below <paramref name="Threshold"/>.</param>
public sealed record CategoryRule(PolicyAction Action, double? Threshold = null, PolicyAction BelowThreshold = PolicyAction.Flag);
