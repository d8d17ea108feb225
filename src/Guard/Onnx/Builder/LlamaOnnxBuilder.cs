using System.Globalization;
using Guard.Onnx.Models;

namespace Guard.Onnx.Builder;

/// <summary>
/// Writes a model directory for the ONNX guard engine from Llama weights: <c>model.onnx</c> (and <c>model.onnx.data</c>),
/// <c>config.json</c>, <c>manifest.json</c> and the tokenizer files.
/// </summary>
/// <remarks><para>The graph has the Optimum / onnxruntime-genai decoder signature: <c>input_ids</c>, <c>attention_mask</c>,
/// <c>position_ids</c>, <c>past_key_values.{i}.key/value</c> in; <c>logits</c>, <c>present.{i}.key/value</c> out
/// (see <see cref="LlamaDecoderGraph"/> for how it is built).</para>
/// <para>The manifest records the model digest (<see cref="ModelManifest.WeightsSha256"/>, rule in
/// <see cref="ModelDigest"/>) over the graph and external-data files, hashed as they are written.</para></remarks>
public static class LlamaOnnxBuilder
{
    /// <summary>The graph file name.</summary>
    public const string GraphFileName = "model.onnx";

    /// <summary>The external data file name.</summary>
    public const string ExternalDataFileName = "model.onnx.data";

    /// <summary>Weights above this size go to external data unless <see cref="LlamaBuildOptions.ExternalData"/> says otherwise.</summary>
    public const long AutoExternalDataBytes = 1L << 30;

    /// <summary>The tokenizer files copied from <see cref="LlamaBuildOptions.TokenizerSource"/>.</summary>
    public static IReadOnlyList<string> TokenizerFileNames { get; } = ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json"];

    // Leaves room for the graph itself under protobuf's 2 GiB message limit.
    private const long MaxInlineBytes = (2L << 30) - (64L << 20);

    /// <summary>Builds the model directory.</summary>
    /// <param name="weights">The weights (a checkpoint or random).</param>
    /// <param name="options">The options.</param>
    /// <param name="outputDirectory">The directory to write (created if needed; files of an earlier build are replaced).</param>
    /// <returns>The manifest written.</returns>
    /// <exception cref="ArgumentException">The config or the options are invalid; every problem is listed.</exception>
    /// <exception cref="LlamaCheckpointException">The tokenizer source has no tokenizer file.</exception>
    /// <exception cref="InvalidDataException">A weight tensor does not have the size its config gives.</exception>
    public static ModelManifest Build(ILlamaWeights weights, LlamaBuildOptions options, string outputDirectory)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(outputDirectory);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("The ONNX writer assumes a little-endian machine.");
        }

        var config = weights.Config;
        var errors = LlamaConfigValidator.Validate(config).ToList();
        if (string.IsNullOrWhiteSpace(options.ModelId))
        {
            errors.Add("ModelId is empty");
        }

        if (!Enum.IsDefined(options.DType))
        {
            errors.Add($"DType {options.DType} is not Float32 or Float16");
        }

        if (options.FusedOperators && options.SharedPrefix)
        {
            errors.Add("FusedOperators and SharedPrefix cannot be combined (GroupQueryAttention takes no separate prefix cache)");
        }

        if (options.FusedOperators && config.NumHeads > 0 && config.HeadDim % 8 != 0)
        {
            errors.Add($"FusedOperators needs a head size that is a multiple of 8 (GroupQueryAttention), got {config.HeadDim}");
        }

        var type = options.DType == OnnxDType.Float16 ? OnnxDataType.Float16 : OnnxDataType.Float;
        var weightBytes = WeightBytes(config, WeightEncoder.ElementSize(type));
        var external = options.ExternalData ?? weightBytes > AutoExternalDataBytes;
        if (!external && weightBytes > MaxInlineBytes)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"ExternalData is false but the weights take {weightBytes / (double)(1L << 30):F2} GiB, over the 2 GiB limit of one protobuf file; set ExternalData to true or null"));
        }

        if (errors.Count > 0)
        {
            throw new ArgumentException("Cannot build the model: " + string.Join("; ", errors), nameof(options));
        }

        var tokenizerFiles = FindTokenizerFiles(weights, options);
        Directory.CreateDirectory(outputDirectory);
        var graphPath = Path.Combine(outputDirectory, GraphFileName);
        var dataPath = Path.Combine(outputDirectory, ExternalDataFileName);
        File.Delete(dataPath);

        // Both files are hashed as they are written, for the manifest's model digest.
        var files = new List<ModelFileDigest>(2);
        using (var writer = new WeightWriter(type, external ? dataPath : null))
        {
            var graph = options.FusedOperators
                ? LlamaDecoderGraph.BuildFused(weights, writer, type, options.LastTokenLogitsOnly)
                : LlamaDecoderGraph.Build(weights, writer, type, options.LastTokenLogitsOnly, options.SharedPrefix);
            var model = new OnnxModelProto(graph, contribOperators: options.FusedOperators)
            {
                DocString = $"Llama decoder ({weights.Source}) written by the guard model builder",
            };
            model.Metadata.Add(new OnnxStringEntryProto("model_id", options.ModelId));
            model.Metadata.Add(new OnnxStringEntryProto("family", options.Family.ToString()));
            model.Metadata.Add(new OnnxStringEntryProto("source", weights.Source));
            using var stream = new HashingFileStream(graphPath);
            model.WriteTo(stream);
            files.Add(stream.Complete(GraphFileName));
            if (writer.Complete() is { } data)
            {
                files.Add(data);
            }
        }

        files.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));

        LlamaConfigJson.Write(config, Path.Combine(outputDirectory, LlamaConfigJson.FileName));
        foreach (var file in tokenizerFiles)
        {
            var target = Path.Combine(outputDirectory, Path.GetFileName(file));
            if (!string.Equals(Path.GetFullPath(file), Path.GetFullPath(target), StringComparison.Ordinal))
            {
                File.Copy(file, target, overwrite: true);
            }
        }

        var manifest = new ModelManifest
        {
            ModelId = options.ModelId,
            Family = options.Family,
            Config = config,
            DType = options.DType.ToManifestName(),
            LastTokenLogitsOnly = options.LastTokenLogitsOnly,
            SharedPrefix = options.SharedPrefix,
            FusedOperators = options.FusedOperators,
            Graph = GraphFileName,
            Source = weights.Source,
            RandomWeights = weights.IsRandom,
            WeightsSha256 = ModelDigest.Combine(files),
            WeightsFiles = files,
        };
        manifest.Write(outputDirectory);
        return manifest;
    }

    /// <summary>Returns the bytes the weights (and rotary tables) of <paramref name="config"/> take at <paramref name="elementSize"/> bytes per value.</summary>
    /// <param name="config">The model's dimensions.</param>
    /// <param name="elementSize">4 for float32, 2 for float16.</param>
    /// <returns>The size in bytes.</returns>
    public static long WeightBytes(LlamaConfig config, int elementSize)
    {
        ArgumentNullException.ThrowIfNull(config);
        var values = LlamaTensorNames.All(config).Sum(t => t.ElementCount)
            + (config.TieWordEmbeddings ? (long)config.VocabSize * config.HiddenSize : 0)
            + (2L * config.MaxPositions * config.HeadDim);
        return values * elementSize;
    }

    private static List<string> FindTokenizerFiles(ILlamaWeights weights, LlamaBuildOptions options)
    {
        var source = options.TokenizerSource;
        if (source is null)
        {
            return weights is SafetensorsLlamaWeights checkpoint ? TokenizerFilesIn(checkpoint.CheckpointDirectory) : [];
        }

        if (File.Exists(source))
        {
            return [source];
        }

        if (!Directory.Exists(source))
        {
            throw new LlamaCheckpointException(source, "tokenizer source not found (TokenizerSource must be a tokenizer file or a directory holding one)", null);
        }

        var files = TokenizerFilesIn(source);
        return files.Count > 0
            ? files
            : throw new LlamaCheckpointException(source, $"no tokenizer file in the tokenizer source directory (looked for {string.Join(", ", TokenizerFileNames)})", null);
    }

    private static List<string> TokenizerFilesIn(string directory) =>
        [.. TokenizerFileNames.Select(n => Path.Combine(directory, n)).Where(File.Exists)];
}
