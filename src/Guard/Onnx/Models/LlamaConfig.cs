using System.Text.Json.Serialization;

namespace Guard.Onnx.Models;

/// <summary>Dimensions of a Llama-architecture decoder (the fields of a Hugging Face <c>config.json</c> the gateway uses).</summary>
public sealed record LlamaConfig
{
    /// <summary>Vocabulary size.</summary>
    [JsonPropertyName("vocab_size")] public required int VocabSize { get; init; }

    /// <summary>Hidden size.</summary>
    [JsonPropertyName("hidden_size")] public required int HiddenSize { get; init; }

    /// <summary>MLP intermediate size.</summary>
    [JsonPropertyName("intermediate_size")] public required int IntermediateSize { get; init; }

    /// <summary>Decoder layers.</summary>
    [JsonPropertyName("num_hidden_layers")] public required int NumLayers { get; init; }

    /// <summary>Attention heads.</summary>
    [JsonPropertyName("num_attention_heads")] public required int NumHeads { get; init; }

    /// <summary>Key/value heads (grouped-query attention when fewer than <see cref="NumHeads"/>).</summary>
    [JsonPropertyName("num_key_value_heads")] public int? NumKvHeadsConfigured { get; init; }

    /// <summary>RoPE base.</summary>
    [JsonPropertyName("rope_theta")] public double RopeTheta { get; init; } = 10000;

    /// <summary>RMSNorm epsilon.</summary>
    [JsonPropertyName("rms_norm_eps")] public double RmsNormEps { get; init; } = 1e-5;

    /// <summary>Longest sequence.</summary>
    [JsonPropertyName("max_position_embeddings")] public int MaxPositions { get; init; } = 4096;

    /// <summary>Beginning-of-sequence id.</summary>
    [JsonPropertyName("bos_token_id")] public int BosTokenId { get; init; } = 1;

    /// <summary>End-of-sequence id.</summary>
    [JsonPropertyName("eos_token_id")] public int EosTokenId { get; init; } = 2;

    /// <summary>Whether the output projection shares the embedding matrix.</summary>
    [JsonPropertyName("tie_word_embeddings")] public bool TieWordEmbeddings { get; init; }

    /// <summary>RoPE frequency scaling (<c>null</c>: none; Llama Guard 3 uses <c>llama3</c>).</summary>
    [JsonPropertyName("rope_scaling")] public LlamaRopeScaling? RopeScaling { get; init; }

    /// <summary>Key/value heads.</summary>
    [JsonIgnore] public int NumKvHeads => NumKvHeadsConfigured ?? NumHeads;

    /// <summary>Size of one head.</summary>
    [JsonIgnore] public int HeadDim => HiddenSize / NumHeads;
}
