using Guard.Prompts;

namespace Guard.Verdicts;

/// <summary>The outcome of one guard check: the model's verdict and how it was reached.</summary>
public sealed record GuardVerdict
{
    /// <summary>Safe, unsafe or unparseable; callers decide what unparseable means (fail open or closed).</summary>
    public required GuardVerdictStatus Status { get; init; }

    /// <summary>The violated categories, names resolved through the taxonomy; empty unless unsafe.</summary>
    public IReadOnlyList<GuardCategory> Categories { get; init; } = [];

    /// <summary>Category codes the model named that the taxonomy does not know.</summary>
    public IReadOnlyList<string> UnknownCodes { get; init; } = [];

    /// <summary>
    /// The probability of <c>unsafe</c> at the first answer position (softmax over the vocabulary), when the engine
    /// can read logits; <see langword="null"/> otherwise.
    /// </summary>
    public double? UnsafeProbability { get; init; }

    /// <summary>The engine that ran the model, e.g. <c>onnx</c>.</summary>
    public required string Engine { get; init; }

    /// <summary>The guard model's id.</summary>
    public required string Model { get; init; }

    /// <summary>How long the check took.</summary>
    public TimeSpan Latency { get; init; }

    /// <summary>Whether the conversation was truncated to fit the model's context before it was judged.</summary>
    public bool Truncated { get; init; }

    /// <summary>The model's output as generated.</summary>
    public string RawOutput { get; init; } = string.Empty;

    /// <summary>Why the output could not be parsed, when <see cref="Status"/> is unparseable.</summary>
    public string? Problem { get; init; }

    /// <summary>Builds a verdict from a parsed model answer.</summary>
    /// <param name="parsed">The parsed answer.</param>
    /// <param name="engine">The engine's name.</param>
    /// <param name="model">The model id.</param>
    /// <param name="latency">How long the check took.</param>
    /// <param name="unsafeProbability">The unsafe probability, when known; between 0 and 1.</param>
    /// <param name="truncated">Whether the conversation was truncated.</param>
    public static GuardVerdict FromParsed(
        ParsedVerdict parsed,
        string engine,
        string model,
        TimeSpan latency,
        double? unsafeProbability = null,
        bool truncated = false)
    {
        ArgumentNullException.ThrowIfNull(parsed);
        ArgumentException.ThrowIfNullOrWhiteSpace(engine);
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        if (unsafeProbability is { } p && !(p >= 0 && p <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(unsafeProbability), p, "A probability must be between 0 and 1.");
        }

        return new GuardVerdict
        {
            Status = parsed.Status,
            Categories = parsed.Categories,
            UnknownCodes = parsed.UnknownCodes,
            UnsafeProbability = unsafeProbability,
            Engine = engine,
            Model = model,
            Latency = latency,
            Truncated = truncated,
            RawOutput = parsed.Raw,
            Problem = parsed.Problem,
        };
    }
}
