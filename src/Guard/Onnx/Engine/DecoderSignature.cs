using System.Globalization;
using Guard.Onnx.Models;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Guard.Onnx.Engine;

/// <summary>
/// The decoder graph's inputs and outputs (the Optimum / onnxruntime-genai signature), checked against the manifest:
/// <c>input_ids</c>, <c>attention_mask</c>, <c>position_ids</c>, <c>past_key_values.{i}.key/.value</c> in;
/// <c>logits</c>, <c>present.{i}.key/.value</c> out.
/// </summary>
internal sealed class DecoderSignature
{
    public const string InputIds = "input_ids";
    public const string AttentionMask = "attention_mask";
    public const string PositionIds = "position_ids";
    public const string Logits = "logits";

    private DecoderSignature(LlamaConfig config, TensorElementType elementType)
    {
        Config = config;
        ElementType = elementType;
        PastNames = new string[2 * config.NumLayers];
        PresentNames = new string[2 * config.NumLayers];
        PrefixNames = new string[2 * config.NumLayers];
        for (var i = 0; i < config.NumLayers; i++)
        {
            PrefixNames[2 * i] = string.Create(CultureInfo.InvariantCulture, $"prefix_key_values.{i}.key");
            PrefixNames[(2 * i) + 1] = string.Create(CultureInfo.InvariantCulture, $"prefix_key_values.{i}.value");
            PastNames[2 * i] = string.Create(CultureInfo.InvariantCulture, $"past_key_values.{i}.key");
            PastNames[(2 * i) + 1] = string.Create(CultureInfo.InvariantCulture, $"past_key_values.{i}.value");
            PresentNames[2 * i] = string.Create(CultureInfo.InvariantCulture, $"present.{i}.key");
            PresentNames[(2 * i) + 1] = string.Create(CultureInfo.InvariantCulture, $"present.{i}.value");
        }
    }

    /// <summary>The model's dimensions.</summary>
    public LlamaConfig Config { get; }

    /// <summary>The element type of logits and the KV cache (float or float16).</summary>
    public TensorElementType ElementType { get; }

    /// <summary>The past inputs, key then value per layer.</summary>
    public string[] PastNames { get; }

    /// <summary>The present outputs, in the same order as <see cref="PastNames"/>.</summary>
    public string[] PresentNames { get; }

    /// <summary>The shared-prefix inputs (<c>prefix_key_values.{i}.key/.value</c>, batch 1), in the same order; fed only
    /// when <see cref="SharedPrefix"/>.</summary>
    public string[] PrefixNames { get; }

    /// <summary>Whether the graph takes the prefix cache apart from the past (the builder's shared-prefix graphs):
    /// every row attends to one batch-1 prefix, and <c>present.*</c> holds only the past and the new tokens.</summary>
    public bool SharedPrefix { get; private set; }

    /// <summary>Whether the graph is the builder's fused graph (the manifest's <c>fused_operators</c>): its
    /// GroupQueryAttention reads only the number of valid keys per row and takes them as contiguous from the start, so
    /// every row's mask must be all ones (no left padding, no masked stale slots) and a pass of several tokens after a
    /// past must be batch 1. The engine runs such a graph unbatched, with contiguous stream caches
    /// (docs/adr/013-fused-graph.md).</summary>
    public bool ContiguousRows { get; private set; }

    /// <summary>Checks the session's inputs and outputs against the manifest and returns the signature.</summary>
    /// <param name="session">The session.</param>
    /// <param name="manifest">The manifest.</param>
    /// <param name="graphPath">The graph file, for messages.</param>
    /// <param name="manifestPath">The manifest file, for messages.</param>
    /// <exception cref="OnnxModelLoadException">The graph lacks an input or output, or a type or dimension disagrees; all problems are listed.</exception>
    public static DecoderSignature Validate(InferenceSession session, ModelManifest manifest, string graphPath, string manifestPath)
    {
        var config = manifest.Config;
        var elementType = manifest.DType == "float16" ? TensorElementType.Float16 : TensorElementType.Float;
        var signature = new DecoderSignature(config, elementType) { ContiguousRows = manifest.FusedOperators };
        var errors = new List<string>();
        var mismatches = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var inputs = session.InputMetadata;
        var outputs = session.OutputMetadata;

        string[] tokenDims = ["batch", "sequence"];
        foreach (var name in new[] { InputIds, AttentionMask, PositionIds })
        {
            Check(errors, mismatches, "input", name, inputs, TensorElementType.Int64, [-1, -1], tokenDims);
        }

        var kvDims = new[] { -1, config.NumKvHeads, -1, config.HeadDim };
        string[] kvDimNames = ["batch", "num_key_value_heads", "sequence", "head size (hidden_size / num_attention_heads)"];
        foreach (var name in signature.PastNames)
        {
            Check(errors, mismatches, "input", name, inputs, elementType, kvDims, kvDimNames);
        }

        signature.SharedPrefix = inputs.ContainsKey(signature.PrefixNames[0]);
        if (signature.SharedPrefix)
        {
            var prefixDims = new[] { 1, config.NumKvHeads, -1, config.HeadDim };
            foreach (var name in signature.PrefixNames)
            {
                Check(errors, mismatches, "input", name, inputs, elementType, prefixDims, kvDimNames);
            }
        }

        Check(errors, mismatches, "output", Logits, outputs, elementType, [-1, -1, config.VocabSize], ["batch", "sequence", "vocab_size"]);
        foreach (var name in signature.PresentNames)
        {
            Check(errors, mismatches, "output", name, outputs, elementType, kvDims, kvDimNames);
        }

        // One line per distinct mismatch, not per tensor: a wrong head count touches every KV tensor.
        foreach (var (problem, names) in mismatches)
        {
            errors.Add(names.Count == 1 ? $"'{names[0]}' {problem}" : $"'{names[0]}' and {names.Count - 1} more tensors: {problem}");
        }

        var known = new HashSet<string>(signature.PastNames, StringComparer.Ordinal) { InputIds, AttentionMask, PositionIds };
        if (signature.SharedPrefix)
        {
            known.UnionWith(signature.PrefixNames);
        }

        var extra = inputs.Keys.Where(k => !known.Contains(k)).Order(StringComparer.Ordinal).ToList();
        if (extra.Count > 0)
        {
            errors.Add($"the graph has inputs the engine cannot feed: {string.Join(", ", extra)} (config.num_hidden_layers is {config.NumLayers}; a graph with more layers than the manifest says has extra past_key_values inputs)");
        }

        if (errors.Count > 0)
        {
            throw new OnnxModelLoadException(
                graphPath,
                $"the graph does not match the decoder signature of {manifestPath}: {string.Join("; ", errors)}",
                null);
        }

        return signature;
    }

    private static void Check(
        List<string> errors,
        Dictionary<string, List<string>> mismatches,
        string kind,
        string name,
        IReadOnlyDictionary<string, NodeMetadata> metadata,
        TensorElementType type,
        int[] dims,
        string[] dimNames)
    {
        if (!metadata.TryGetValue(name, out var node))
        {
            errors.Add($"{kind} '{name}' is missing");
            return;
        }

        if (!node.IsTensor)
        {
            errors.Add($"{kind} '{name}' is not a tensor");
            return;
        }

        if (node.ElementDataType != type)
        {
            Add(mismatches, $"is {node.ElementDataType}, expected {type} (manifest dtype)", name);
        }

        var actual = node.Dimensions;
        if (actual.Length != dims.Length)
        {
            errors.Add($"{kind} '{name}' has rank {actual.Length}, expected {dims.Length}");
            return;
        }

        for (var d = 0; d < dims.Length; d++)
        {
            // -1 on either side is a symbolic (dynamic) dimension: nothing to compare here (the trial pass checks it).
            if (dims[d] >= 0 && actual[d] >= 0 && actual[d] != dims[d])
            {
                Add(mismatches, $"has {dimNames[d]} {actual[d]} (dimension {d}), but the manifest's config gives {dims[d]}", name);
            }
        }
    }

    private static void Add(Dictionary<string, List<string>> mismatches, string problem, string name)
    {
        if (!mismatches.TryGetValue(problem, out var names))
        {
            mismatches[problem] = names = [];
        }

        names.Add(name);
    }
}
