namespace Policies.Evaluation;

/// <summary>One category an unsafe verdict named, and what the policy made of it.</summary>
/// <param name="Code">The code as the taxonomy writes it (or as the model wrote an unknown one); empty for <see cref="FindingReason.NoCode"/>.</param>
/// <param name="Name">The category's name; <see langword="null"/> for unknown codes.</param>
/// <param name="Action">The action that applies.</param>
/// <param name="Reason">Which rule chose it.</param>
/// <param name="Threshold">The category's threshold, if any.</param>
/// <param name="Probability">The verdict's unsafe probability, if any.</param>
public sealed record CategoryFinding(string Code, string? Name, PolicyAction Action, FindingReason Reason, double? Threshold, double? Probability);
