using System.Text.Json.Serialization;

namespace Guard.Onnx.Models;

/// <summary>The <c>rope_scaling</c> object of a Hugging Face Llama <c>config.json</c> (Llama 3.1 based checkpoints such as Llama Guard 3 use <c>llama3</c>).</summary>
public sealed record LlamaRopeScaling
{
    /// <summary>The scaling kind used by current configs: <c>default</c>, <c>linear</c> or <c>llama3</c>.</summary>
    [JsonPropertyName("rope_type")] public string? RopeType { get; init; }

    /// <summary>The scaling kind under its older key (<c>type</c>), read when <see cref="RopeType"/> is absent.</summary>
    [JsonPropertyName("type")] public string? LegacyType { get; init; }

    /// <summary>The scaling factor.</summary>
    [JsonPropertyName("factor")] public double Factor { get; init; } = 1;

    /// <summary>Llama 3: wavelengths longer than <c>original_max_position_embeddings / low_freq_factor</c> are divided by the factor.</summary>
    [JsonPropertyName("low_freq_factor")] public double? LowFreqFactor { get; init; }

    /// <summary>Llama 3: wavelengths shorter than <c>original_max_position_embeddings / high_freq_factor</c> are kept.</summary>
    [JsonPropertyName("high_freq_factor")] public double? HighFreqFactor { get; init; }

    /// <summary>Llama 3: the context length the model was pre-trained with.</summary>
    [JsonPropertyName("original_max_position_embeddings")] public int? OriginalMaxPositions { get; init; }

    /// <summary>The effective kind: <see cref="RopeType"/>, else <see cref="LegacyType"/>, else <c>default</c>.</summary>
    [JsonIgnore] public string Kind => RopeType ?? LegacyType ?? "default";
}
