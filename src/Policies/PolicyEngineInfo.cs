using Guard.Prompts;

namespace Policies;

/// <summary>What policy validation needs to know about one named guard engine.</summary>
/// <param name="Family">The Llama Guard generation the engine runs; custom taxonomies build on its defaults.</param>
/// <param name="ReportsUnsafeProbability">
/// Whether the engine's verdicts carry an unsafe probability (the local ONNX engine, an OpenAI-compatible server with
/// log-probabilities); thresholds are refused on engines that do not.
/// </param>
/// <param name="Taxonomy">The categories the engine asks about by default; <see langword="null"/> for the family's defaults.</param>
public sealed record PolicyEngineInfo(GuardFamily Family, bool ReportsUnsafeProbability, GuardTaxonomy? Taxonomy = null)
{
    /// <summary>The engine's categories: <see cref="Taxonomy"/>, or the family's defaults.</summary>
    public GuardTaxonomy EffectiveTaxonomy => Taxonomy ?? GuardTaxonomy.ForFamily(Family);
}
