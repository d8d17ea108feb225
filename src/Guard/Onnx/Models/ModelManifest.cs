using System.Text.Json;
using System.Text.Json.Serialization;
using Guard.Prompts;

namespace Guard.Onnx.Models;

/// <summary>The <c>manifest.json</c> of a guard model directory written by the model builder.</summary>
/// <remarks>A model directory holds <c>model.onnx</c> (and <c>model.onnx.data</c> for external weights),
/// <c>tokenizer.json</c> (or <c>tokenizer.model</c>), <c>config.json</c> and this manifest.</remarks>
public sealed record ModelManifest
{
    /// <summary>The manifest file name.</summary>
    public const string FileName = "manifest.json";

    /// <summary>Format version of this manifest.</summary>
    [JsonPropertyName("format")] public int Format { get; init; } = 1;

    /// <summary>The model id reported on verdicts.</summary>
    [JsonPropertyName("model_id")] public required string ModelId { get; init; }

    /// <summary>The Llama Guard family (prompt format, categories).</summary>
    [JsonPropertyName("family")] public required GuardFamily Family { get; init; }

    /// <summary>The model's dimensions.</summary>
    [JsonPropertyName("config")] public required LlamaConfig Config { get; init; }

    /// <summary><c>float32</c> or <c>float16</c>: the type of logits and of the KV cache tensors.</summary>
    [JsonPropertyName("dtype")] public required string DType { get; init; }

    /// <summary>Whether <c>logits</c> holds only the last position ([batch, 1, vocab]).</summary>
    [JsonPropertyName("last_token_logits_only")] public bool LastTokenLogitsOnly { get; init; }

    /// <summary>Whether the graph takes a shared prefix cache (<c>prefix_key_values.*</c>) apart from the past.</summary>
    [JsonPropertyName("shared_prefix")] public bool SharedPrefix { get; init; }

    /// <summary>Whether the graph uses ONNX Runtime's contrib operators (<c>GroupQueryAttention</c> and others): its rows'
    /// valid positions must be contiguous from the start, so the engine runs it unbatched (docs/adr/013-fused-graph.md).</summary>
    [JsonPropertyName("fused_operators")] public bool FusedOperators { get; init; }

    /// <summary>The graph file.</summary>
    [JsonPropertyName("graph")] public string Graph { get; init; } = "model.onnx";

    /// <summary>Where the weights came from: <c>random:seed=N</c> or <c>safetensors:&lt;dir name&gt;</c>.</summary>
    [JsonPropertyName("source")] public required string Source { get; init; }

    /// <summary>True for seeded random weights: verdicts are meaningless and the gateway says so at start-up.</summary>
    [JsonPropertyName("random_weights")] public bool RandomWeights { get; init; }

    /// <summary>
    /// The model digest (<see cref="ModelDigest"/>): a SHA-256 over <see cref="WeightsFiles"/>, each with its name,
    /// length and own SHA-256, computed by the builder as it wrote them; 64 lowercase hex digits. <see langword="null"/>
    /// in manifests written before the builder recorded it.
    /// </summary>
    [JsonPropertyName("weights_sha256")] public string? WeightsSha256 { get; init; }

    /// <summary>The files <see cref="WeightsSha256"/> covers: the graph and every external-data file it references,
    /// sorted by name; <see langword="null"/> when the manifest has no digest.</summary>
    [JsonPropertyName("weights_files")] public IReadOnlyList<ModelFileDigest>? WeightsFiles { get; init; }

    private static readonly JsonSerializerOptions Json = new()
    {
        Converters = { new JsonStringEnumConverter() },
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>Writes this manifest as <c>manifest.json</c> into a model directory (the family is written by name).</summary>
    /// <param name="directory">The model directory.</param>
    /// <returns>The path of the file written.</returns>
    public string Write(string directory)
    {
        var path = Path.Combine(directory, FileName);
        File.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");
        return path;
    }

    /// <summary>Reads the <c>manifest.json</c> of a model directory.</summary>
    /// <param name="directory">The model directory.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="FileNotFoundException">The directory has no manifest.</exception>
    /// <exception cref="JsonException">The manifest is not valid JSON for this record.</exception>
    public static ModelManifest Read(string directory)
    {
        var path = Path.Combine(directory, FileName);
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize<ModelManifest>(stream, Json) ?? throw new JsonException($"{path}: the manifest is null");
    }
}
