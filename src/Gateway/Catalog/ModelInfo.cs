namespace Gateway.Catalog;

/// <summary>Immutable runtime view of one catalog model, with every range resolved.</summary>
/// <remarks><see cref="Tokenizer"/> is a <see cref="Guard.Tokenizers.TokenizerFamilies"/> constant, or null when the
/// model's prompts are estimated from their bytes.</remarks>
public sealed record ModelInfo(
    string Id,
    string UpstreamModel,
    int? ContextTokens,
    int DefaultMaxTokens,
    int DefaultMaxTokensStream,
    int MaxTokensLimit,
    int? MaxPromptChars,
    bool Lora,
    bool Tools,
    bool Beta,
    DateOnly? Deprecated,
    ParameterRanges Ranges,
    string? Tokenizer = null);

/// <summary>Resolved inclusive ranges for the sampling parameters.</summary>
public sealed record ParameterRanges(
    (double Min, double Max) Temperature,
    (double Min, double Max) TopP,
    (double Min, double Max) TopK,
    (double Min, double Max) Seed,
    (double Min, double Max) RepetitionPenalty,
    (double Min, double Max) FrequencyPenalty,
    (double Min, double Max) PresencePenalty)
{
    /// <summary>The ranges on the Workers AI text-generation schema (Llama Guard and Llama 2 pages).</summary>
    public static ParameterRanges WorkersAiDefaults { get; } = new(
        (0, 5), (0.001, 1), (1, 50), (1, 9_999_999_999), (0, 2), (-2, 2), (-2, 2));
}
