namespace Gateway.Catalog;

/// <summary>One text-generation model as configured (<c>Gateway:Models:{model id}</c>); operators add models here.</summary>
public sealed class ModelOptions
{
    /// <summary>Context window in tokens, when documented. When set, a request whose prompt tokens plus
    /// <c>max_tokens</c> exceed it is refused before it is forwarded (docs/api.md, "Context window").</summary>
    public int? ContextTokens { get; set; }

    /// <summary>The tokenizer family the model's prompts are counted with: <c>llama2</c> (SentencePiece BPE, Llama 2
    /// and Code Llama), <c>llama3</c> (byte-level BPE, Llama 3 and 3.1), or unset for the byte estimate.</summary>
    public string? Tokenizer { get; set; }

    /// <summary>Default <c>max_tokens</c> when the request gives none and does not stream.</summary>
    public int DefaultMaxTokens { get; set; } = 256;

    /// <summary>Default <c>max_tokens</c> for streamed requests; also the largest value accepted when
    /// <see cref="MaxTokensLimit"/> is not set.</summary>
    public int? DefaultMaxTokensStream { get; set; }

    /// <summary>Largest accepted <c>max_tokens</c> (the documented sequence-token limit).</summary>
    public int? MaxTokensLimit { get; set; }

    /// <summary>Largest prompt or message content, in characters.</summary>
    public int? MaxPromptChars { get; set; }

    /// <summary>Whether the model takes a <c>lora</c> adapter.</summary>
    public bool Lora { get; set; }

    /// <summary>Whether the model takes <c>tools</c> and <c>functions</c>.</summary>
    public bool Tools { get; set; }

    /// <summary>Whether the model is in beta.</summary>
    public bool Beta { get; set; }

    /// <summary>Date after which the model is deprecated, if any.</summary>
    public DateOnly? Deprecated { get; set; }

    /// <summary>Name the upstream knows the model by, when it differs from the catalog id.</summary>
    public string? UpstreamModel { get; set; }

    /// <summary>Accepted parameter ranges; unset ranges take the Workers AI defaults.</summary>
    public ParameterRangesOptions Ranges { get; set; } = new();
}

/// <summary>Inclusive ranges for sampling parameters.</summary>
public sealed class ParameterRangesOptions
{
    /// <summary><c>temperature</c>.</summary>
    public NumberRange? Temperature { get; set; }

    /// <summary><c>top_p</c>.</summary>
    public NumberRange? TopP { get; set; }

    /// <summary><c>top_k</c>.</summary>
    public NumberRange? TopK { get; set; }

    /// <summary><c>seed</c>.</summary>
    public NumberRange? Seed { get; set; }

    /// <summary><c>repetition_penalty</c>.</summary>
    public NumberRange? RepetitionPenalty { get; set; }

    /// <summary><c>frequency_penalty</c>.</summary>
    public NumberRange? FrequencyPenalty { get; set; }

    /// <summary><c>presence_penalty</c>.</summary>
    public NumberRange? PresencePenalty { get; set; }
}

/// <summary>An inclusive numeric range.</summary>
public sealed class NumberRange
{
    /// <summary>Smallest accepted value.</summary>
    public double Min { get; set; }

    /// <summary>Largest accepted value.</summary>
    public double Max { get; set; }
}
