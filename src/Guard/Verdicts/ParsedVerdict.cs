using Guard.Prompts;

namespace Guard.Verdicts;

/// <summary>A guard model's answer, parsed.</summary>
/// <param name="Status">Safe, unsafe or unparseable.</param>
/// <param name="Categories">The violated categories whose codes the taxonomy knows, in the model's order, without duplicates.</param>
/// <param name="UnknownCodes">Codes (or words) on the category line that the taxonomy does not know.</param>
/// <param name="Raw">The model output exactly as given.</param>
/// <param name="Problem">Why the output is <see cref="GuardVerdictStatus.Unparseable"/>; <see langword="null"/> otherwise.</param>
public sealed record ParsedVerdict(
    GuardVerdictStatus Status,
    IReadOnlyList<GuardCategory> Categories,
    IReadOnlyList<string> UnknownCodes,
    string Raw,
    string? Problem = null);
