using Guard.Onnx.Builder;
using Guard.Onnx.Models;
using Guard.Prompts;
using Guard.Tests.Onnx.Reference;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;

namespace Guard.Tests.Onnx.Builder;

/// <summary>
/// Built graphs run by ONNX Runtime (CPU) against the double-precision reference on the same weights. Error measure:
/// per position, max |onnx - reference| / max |reference| over the vocabulary (see <see cref="LogitComparison"/>);
/// float32 must be within 1e-4, float16 within 2e-2.
/// </summary>
public sealed class LlamaOnnxBuilderTests(ITestOutputHelper output)
{
    internal const double Float32Tolerance = 1e-4;
    internal const double Float16Tolerance = 2e-2;
    private const float Scale = 0.2f;

    [Fact]
    public void Build_TinyModel_SessionListsExactlyTheDecoderSignature()
    {
        using var dir = new TempDirectory();
        Build(dir.Path, TinyModels.Gqa, seed: 1);
        using var decoder = new OrtDecoder(dir.Path);
        var session = decoder.Session;

        string[] inputs = ["input_ids", "attention_mask", "position_ids", "past_key_values.0.key", "past_key_values.0.value", "past_key_values.1.key", "past_key_values.1.value"];
        string[] outputs = ["logits", "present.0.key", "present.0.value", "present.1.key", "present.1.value"];
        Assert.Equal(inputs, session.InputNames);
        Assert.Equal(outputs, session.OutputNames);

        var meta = session.InputMetadata;
        Assert.Equal(TensorElementType.Int64, meta["input_ids"].ElementDataType);
        Assert.Equal(["batch_size", "sequence_length"], meta["input_ids"].SymbolicDimensions);
        Assert.Equal(["batch_size", "total_sequence_length"], meta["attention_mask"].SymbolicDimensions);
        Assert.Equal(TensorElementType.Int64, meta["position_ids"].ElementDataType);
        Assert.Equal(TensorElementType.Float, meta["past_key_values.1.value"].ElementDataType);
        Assert.Equal([-1, 2, -1, 16], meta["past_key_values.1.value"].Dimensions);
        Assert.Equal("past_sequence_length", meta["past_key_values.0.key"].SymbolicDimensions[2]);

        var outMeta = session.OutputMetadata;
        Assert.Equal([-1, -1, 160], outMeta["logits"].Dimensions);
        Assert.Equal([-1, 2, -1, 16], outMeta["present.0.key"].Dimensions);
        Assert.Equal("total_sequence_length", outMeta["present.0.key"].SymbolicDimensions[2]);
    }

    [Theory]
    [MemberData(nameof(TinyModels.Names), MemberType = typeof(TinyModels))]
    public void FullPrompt_MatchesReference(string model)
    {
        var config = TinyModels.ByName(model);
        using var dir = new TempDirectory();
        var weights = Build(dir.Path, config, seed: 11);
        var reference = new LlamaReference(weights);
        var tokens = TinyModels.Tokens(13, config.VocabSize, seed: 3);

        using var decoder = new OrtDecoder(dir.Path);
        using var step = decoder.Run([tokens], [TinyModels.Ones(tokens.Length)], [TinyModels.Range(0, tokens.Length)], past: null);
        Assert.Equal([1L, tokens.Length, config.VocabSize], step.LogitsShape);

        var expected = reference.Forward(tokens);
        var worst = LogitComparison.AssertRowClose(step, 0, 0, expected, Float32Tolerance, model);

        output.WriteLine($"{model} fp32 full prompt: max relative error {worst:E2}");
    }

    [Theory]
    [MemberData(nameof(TinyModels.Names), MemberType = typeof(TinyModels))]
    public void IncrementalSteps_WithKvCache_MatchReference(string model)
    {
        var config = TinyModels.ByName(model);
        using var dir = new TempDirectory();
        var weights = Build(dir.Path, config, seed: 12);
        var worst = RunIncremental(dir.Path, new LlamaReference(weights), prefix: 6, steps: 5, Float32Tolerance);
        output.WriteLine($"{model} fp32 incremental: max relative error {worst:E2}");
    }

    [Fact]
    public void Batch_LeftAndRightPadding_MatchesUnpaddedReference()
    {
        var config = TinyModels.Gqa;
        using var dir = new TempDirectory();
        var reference = new LlamaReference(Build(dir.Path, config, seed: 13));
        var a = TinyModels.Tokens(6, config.VocabSize, seed: 1);
        var b = TinyModels.Tokens(7, config.VocabSize, seed: 2);

        // Row 0 left-padded by 3, row 1 right-padded by 2; padded slots hold token 0 and position 1 (as Hugging Face fills them).
        long[][] ids = [[0, 0, 0, .. a], [.. b, 0, 0]];
        long[][] mask = [[0, 0, 0, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 0, 0]];
        long[][] positions = [[1, 1, 1, 0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5, 6, 1, 1]];
        using var decoder = new OrtDecoder(dir.Path);
        using var first = decoder.Run(ids, mask, positions, past: null);

        var cacheA = reference.NewCache();
        var cacheB = reference.NewCache();
        var expectedA = reference.Forward(cacheA, a, TinyModels.Range(0, 6));
        var expectedB = reference.Forward(cacheB, b, TinyModels.Range(0, 7));
        var worst = Math.Max(
            LogitComparison.AssertRowClose(first, 0, 3, expectedA, Float32Tolerance, "left-padded"),
            LogitComparison.AssertRowClose(first, 1, 0, expectedB, Float32Tolerance, "right-padded"));

        // One more token per row with the cache: the padded slots stay masked.
        long[] next = [5, 9];
        using var second = decoder.Run([[next[0]], [next[1]]], [[.. mask[0], 1], [.. mask[1], 1]], [[6], [7]], first);
        Assert.Equal([2L, 2, 10, 16], second.PresentShape(0));
        worst = Math.Max(worst, LogitComparison.AssertClose(second.Row(0, 0), reference.Forward(cacheA, [next[0]], [6])[0], Float32Tolerance, "left-padded step"));
        worst = Math.Max(worst, LogitComparison.AssertClose(second.Row(1, 0), reference.Forward(cacheB, [next[1]], [7])[0], Float32Tolerance, "right-padded step"));
        output.WriteLine($"batch 2 with padding: max relative error {worst:E2}");
    }

    [Theory]
    [InlineData(OnnxDType.Float32)]
    [InlineData(OnnxDType.Float16)]
    public void SharedPrefix_OneBatchOnePrefixCache_MatchesReference(OnnxDType dtype)
    {
        var config = TinyModels.Gqa;
        var tolerance = dtype == OnnxDType.Float32 ? Float32Tolerance : Float16Tolerance;
        using var dir = new TempDirectory();
        var reference = new LlamaReference(Build(dir.Path, config, seed: 14, dtype, sharedPrefix: true));
        using var decoder = new OrtDecoder(dir.Path);
        Assert.True(decoder.Manifest.SharedPrefix);
        Assert.Equal([1, 2, -1, 16], decoder.Session.InputMetadata["prefix_key_values.1.value"].Dimensions);
        Assert.Equal("prefix_sequence_length", decoder.Session.InputMetadata["prefix_key_values.0.key"].SymbolicDimensions[2]);

        // The prefix alone (no prefix input): its presents are the prefix cache.
        var shared = TinyModels.Tokens(5, config.VocabSize, seed: 4);
        var a = TinyModels.Tokens(3, config.VocabSize, seed: 5);
        var b = TinyModels.Tokens(4, config.VocabSize, seed: 6);
        using var prefix = decoder.Run([shared], [TinyModels.Ones(5)], [TinyModels.Range(0, 5)], past: null);
        Assert.Equal([1L, 2, 5, 16], prefix.PresentShape(0));
        var expectedPrefix = reference.Forward(shared);
        var worst = LogitComparison.AssertClose(prefix.Row(0, 4), expectedPrefix[4], tolerance, "prefix");

        // Two rows after the one prefix cache, row 0 left-padded by one; presents hold only the rows' own tokens.
        using var rows = decoder.Run(
            [[0, .. a], [.. b]],
            [[1, 1, 1, 1, 1, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1]],
            [[5, 5, 6, 7], [5, 6, 7, 8]],
            past: null,
            prefix);
        Assert.Equal([2L, 2, 4, 16], rows.PresentShape(0));
        var cacheA = reference.NewCache();
        var cacheB = reference.NewCache();
        reference.Forward(cacheA, shared, TinyModels.Range(0, 5));
        reference.Forward(cacheB, shared, TinyModels.Range(0, 5));
        var expectedA = reference.Forward(cacheA, a, TinyModels.Range(5, 3));
        var expectedB = reference.Forward(cacheB, b, TinyModels.Range(5, 4));
        worst = Math.Max(worst, LogitComparison.AssertRowClose(rows, 0, 1, expectedA, tolerance, "row 0"));
        worst = Math.Max(worst, LogitComparison.AssertRowClose(rows, 1, 0, expectedB, tolerance, "row 1"));

        // A decoding step: past = the rows' presents, the same prefix cache.
        using var step = decoder.Run([[7], [9]], [[1, 1, 1, 1, 1, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]], [[8], [9]], rows, prefix);
        Assert.Equal([2L, 2, 5, 16], step.PresentShape(0));
        worst = Math.Max(worst, LogitComparison.AssertClose(step.Row(0, 0), reference.Forward(cacheA, [7], [8])[0], tolerance, "row 0 step"));
        worst = Math.Max(worst, LogitComparison.AssertClose(step.Row(1, 0), reference.Forward(cacheB, [9], [9])[0], tolerance, "row 1 step"));
        output.WriteLine($"shared prefix {dtype}: max relative error {worst:E2}");
    }

    [Fact]
    public void LastTokenLogitsOnly_ReturnsTheLastPositionOfFullPromptsAndSteps()
    {
        var config = TinyModels.Gqa;
        using var dir = new TempDirectory();
        var reference = new LlamaReference(Build(dir.Path, config, seed: 14, lastTokenOnly: true));
        Assert.True(ModelManifest.Read(dir.Path).LastTokenLogitsOnly);
        var a = TinyModels.Tokens(8, config.VocabSize, seed: 4);
        var b = TinyModels.Tokens(5, config.VocabSize, seed: 5);

        using var decoder = new OrtDecoder(dir.Path);
        Assert.Equal([-1, 1, config.VocabSize], decoder.Session.OutputMetadata["logits"].Dimensions);
        long[][] mask = [TinyModels.Ones(8), [0, 0, 0, 1, 1, 1, 1, 1]];
        using var first = decoder.Run([a, [0, 0, 0, .. b]], mask, [TinyModels.Range(0, 8), [1, 1, 1, 0, 1, 2, 3, 4]], past: null);
        Assert.Equal([2L, 1, config.VocabSize], first.LogitsShape);

        var cacheA = reference.NewCache();
        var cacheB = reference.NewCache();
        var worst = LogitComparison.AssertClose(first.Row(0, 0), reference.Forward(cacheA, a, TinyModels.Range(0, 8))[^1], Float32Tolerance, "row 0 last");
        worst = Math.Max(worst, LogitComparison.AssertClose(first.Row(1, 0), reference.Forward(cacheB, b, TinyModels.Range(0, 5))[^1], Float32Tolerance, "row 1 last"));

        using var second = decoder.Run([[3], [4]], [[.. mask[0], 1], [.. mask[1], 1]], [[8], [5]], first);
        Assert.Equal([2L, 1, config.VocabSize], second.LogitsShape);
        worst = Math.Max(worst, LogitComparison.AssertClose(second.Row(0, 0), reference.Forward(cacheA, [3], [8])[0], Float32Tolerance, "row 0 step"));
        worst = Math.Max(worst, LogitComparison.AssertClose(second.Row(1, 0), reference.Forward(cacheB, [4], [5])[0], Float32Tolerance, "row 1 step"));
        output.WriteLine($"last-token logits: max relative error {worst:E2}");
    }

    [Theory]
    [MemberData(nameof(TinyModels.Names), MemberType = typeof(TinyModels))]
    public void Float16_MatchesReferenceWithinHalfPrecisionTolerance(string model)
    {
        var config = TinyModels.ByName(model);
        using var dir = new TempDirectory();
        var weights = Build(dir.Path, config, seed: 15, dtype: OnnxDType.Float16);
        Assert.Equal("float16", ModelManifest.Read(dir.Path).DType);
        using (var decoder = new OrtDecoder(dir.Path))
        {
            Assert.Equal(TensorElementType.Float16, decoder.Session.OutputMetadata["logits"].ElementDataType);
            Assert.Equal(TensorElementType.Float16, decoder.Session.InputMetadata["past_key_values.0.key"].ElementDataType);
            Assert.Equal(TensorElementType.Float16, decoder.Session.OutputMetadata["present.1.value"].ElementDataType);
            Assert.Equal(TensorElementType.Int64, decoder.Session.InputMetadata["input_ids"].ElementDataType);
        }

        var worst = RunIncremental(dir.Path, new LlamaReference(weights), prefix: 7, steps: 4, Float16Tolerance);
        output.WriteLine($"{model} fp16 full prompt + incremental: max relative error {worst:E2}");
    }

    [Fact]
    public void ExternalData_WritesAlignedDataFileAndMatchesReference()
    {
        var config = TinyModels.Gqa;
        using var dir = new TempDirectory();
        var weights = Build(dir.Path, config, seed: 16, external: true);
        var data = new FileInfo(dir.Combine(LlamaOnnxBuilder.ExternalDataFileName));
        Assert.True(data.Exists);
        Assert.True(data.Length >= LlamaOnnxBuilder.WeightBytes(config, 4));
        Assert.True(new FileInfo(dir.Combine("model.onnx")).Length < 64 * 1024, "the graph holds no weights");

        var worst = RunIncremental(dir.Path, new LlamaReference(weights), prefix: 4, steps: 2, Float32Tolerance);
        output.WriteLine($"external data: max relative error {worst:E2}");

        // Rebuilding inline into the same directory removes the stale data file.
        Build(dir.Path, config, seed: 16, external: false);
        Assert.False(File.Exists(dir.Combine(LlamaOnnxBuilder.ExternalDataFileName)));
    }

    [Fact]
    public void Build_WritesManifestConfigAndTokenizer()
    {
        using var dir = new TempDirectory();
        var tokenizerDir = dir.Combine("tok");
        Directory.CreateDirectory(tokenizerDir);
        File.WriteAllText(Path.Combine(tokenizerDir, "tokenizer.json"), "{}");
        File.WriteAllText(Path.Combine(tokenizerDir, "tokenizer_config.json"), "{}");
        var output = dir.Combine("model");
        var weights = new RandomLlamaWeights(TinyModels.Llama3, seed: 7, Scale);

        var manifest = LlamaOnnxBuilder.Build(
            weights,
            new LlamaBuildOptions { Family = GuardFamily.LlamaGuard3, ModelId = "tiny-guard-3", DType = OnnxDType.Float16, TokenizerSource = tokenizerDir },
            output);

        var read = ModelManifest.Read(output);
        Assert.Equal(manifest, read with { Config = manifest.Config, WeightsFiles = manifest.WeightsFiles });
        Assert.Equal(manifest.WeightsFiles!, read.WeightsFiles!);
        Assert.Equal("tiny-guard-3", read.ModelId);
        Assert.Equal(GuardFamily.LlamaGuard3, read.Family);
        Assert.Equal("float16", read.DType);
        Assert.Equal("random:seed=7", read.Source);
        Assert.True(read.RandomWeights);
        Assert.Equal("model.onnx", read.Graph);
        Assert.Equal(TinyModels.Llama3.NumKvHeads, read.Config.NumKvHeads);
        Assert.Equal("llama3", read.Config.RopeScaling?.Kind);
        Assert.Contains("\"family\": \"LlamaGuard3\"", File.ReadAllText(Path.Combine(output, "manifest.json")), StringComparison.Ordinal);

        var config = LlamaConfigJson.Read(Path.Combine(output, "config.json"));
        Assert.Equal(TinyModels.Llama3, config);
        Assert.True(File.Exists(Path.Combine(output, "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(output, "tokenizer_config.json")));
        Assert.False(File.Exists(Path.Combine(output, "model.onnx.data")));

        // A single tokenizer file works too.
        var single = dir.Combine("single");
        LlamaOnnxBuilder.Build(weights, new LlamaBuildOptions { Family = GuardFamily.LlamaGuard3, ModelId = "x", TokenizerSource = Path.Combine(tokenizerDir, "tokenizer.json") }, single);
        Assert.True(File.Exists(Path.Combine(single, "tokenizer.json")));
    }

    [Fact]
    public void Build_TokenizerSourceWithoutTokenizer_NamesTheSource()
    {
        using var dir = new TempDirectory();
        var weights = new RandomLlamaWeights(TinyModels.Mha, seed: 1, Scale);
        var empty = dir.Combine("empty");
        Directory.CreateDirectory(empty);

        var ex = Assert.Throws<LlamaCheckpointException>(() => LlamaOnnxBuilder.Build(weights, Options(tokenizer: empty), dir.Combine("out")));
        Assert.Equal(empty, ex.FilePath);
        Assert.Contains("tokenizer.json", ex.Message, StringComparison.Ordinal);

        var missing = dir.Combine("nope", "tokenizer.json");
        ex = Assert.Throws<LlamaCheckpointException>(() => LlamaOnnxBuilder.Build(weights, Options(tokenizer: missing), dir.Combine("out")));
        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_InlineWeightsOverTwoGiB_IsRejectedBeforeWriting()
    {
        using var dir = new TempDirectory();
        var weights = new RandomLlamaWeights(SevenB, seed: 1);
        var options = Options();
        options.ExternalData = false;

        var ex = Assert.Throws<ArgumentException>(() => LlamaOnnxBuilder.Build(weights, options, dir.Path));
        Assert.Contains("2 GiB", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Build_InvalidConfigAndOptions_ListsEveryProblem()
    {
        using var dir = new TempDirectory();
        var bad = new BrokenWeights(TinyModels.Gqa with { HiddenSize = 30, NumKvHeadsConfigured = 3 }, null);
        var options = Options();
        options.ModelId = " ";

        var ex = Assert.Throws<ArgumentException>(() => LlamaOnnxBuilder.Build(bad, options, dir.Path));
        Assert.Contains("hidden_size 30 is not a multiple of num_attention_heads 4", ex.Message, StringComparison.Ordinal);
        Assert.Contains("num_attention_heads 4 is not a multiple of num_key_value_heads 3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("ModelId is empty", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_WeightOfWrongSize_NamesTheTensorAndShape()
    {
        using var dir = new TempDirectory();
        var weights = new BrokenWeights(TinyModels.Gqa, "model.layers.1.self_attn.k_proj.weight");

        var ex = Assert.Throws<InvalidDataException>(() => LlamaOnnxBuilder.Build(weights, Options(), dir.Path));
        Assert.Contains("model.layers.1.self_attn.k_proj.weight", ex.Message, StringComparison.Ordinal);
        Assert.Contains("[32, 64]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WeightBytes_LlamaGuard7bShape()
    {
        // 6.74e9 parameters (LlamaGuard-7b) plus the 2 x 4096 x 128 rotary tables.
        var values = LlamaOnnxBuilder.WeightBytes(SevenB, 1);
        Assert.Equal(6_738_415_616L + (2L * 4096 * 128), values);
    }

    internal static LlamaConfig SevenB { get; } = new()
    {
        VocabSize = 32000,
        HiddenSize = 4096,
        IntermediateSize = 11008,
        NumLayers = 32,
        NumHeads = 32,
        NumKvHeadsConfigured = 32,
        MaxPositions = 4096,
    };

    internal static RandomLlamaWeights Build(string directory, LlamaConfig config, int seed, OnnxDType dtype = OnnxDType.Float32, bool lastTokenOnly = false, bool? external = null, bool sharedPrefix = false, bool fused = false)
    {
        var weights = new RandomLlamaWeights(config, seed, Scale);
        var options = Options();
        options.SharedPrefix = sharedPrefix;
        options.FusedOperators = fused;
        options.DType = dtype;
        options.LastTokenLogitsOnly = lastTokenOnly;
        options.ExternalData = external;
        LlamaOnnxBuilder.Build(weights, options, directory);
        return weights;
    }

    internal static LlamaBuildOptions Options(string? tokenizer = null) =>
        new() { Family = GuardFamily.LlamaGuard1, ModelId = "tiny", TokenizerSource = tokenizer };

    /// <summary>A prompt of <paramref name="prefix"/> tokens, then <paramref name="steps"/> single tokens fed with the
    /// present KV as past; every position is compared with the reference. Returns the largest error.</summary>
    internal static double RunIncremental(string directory, LlamaReference reference, int prefix, int steps, double tolerance)
    {
        var config = reference.Config;
        var tokens = TinyModels.Tokens(prefix + steps, config.VocabSize, seed: 9);
        var expected = reference.Forward(tokens);
        using var decoder = new OrtDecoder(directory);
        var step = decoder.Run([tokens[..prefix]], [TinyModels.Ones(prefix)], [TinyModels.Range(0, prefix)], past: null);
        var worst = 0.0;
        try
        {
            worst = LogitComparison.AssertRowClose(step, 0, 0, expected[..prefix], tolerance, "prompt");

            for (var s = 0; s < steps; s++)
            {
                var position = prefix + s;
                var next = decoder.Run([[tokens[position]]], [TinyModels.Ones(position + 1)], [[position]], step);
                step.Dispose();
                step = next;
                Assert.Equal([1L, config.NumKvHeads, position + 1, config.HeadDim], step.PresentShape(0));
                worst = Math.Max(worst, LogitComparison.AssertClose(step.Row(0, 0), expected[position], tolerance, $"step at position {position}"));
            }
        }
        finally
        {
            step.Dispose();
        }

        return worst;
    }

    private sealed class BrokenWeights(LlamaConfig config, string? shortTensor) : ILlamaWeights
    {
        private readonly RandomLlamaWeights? _inner = LlamaConfigValidator.Validate(config).Count == 0 ? new RandomLlamaWeights(config, 3) : null;

        public LlamaConfig Config => config;

        public float[] Get(string name) => name == shortTensor ? new float[10] : _inner!.Get(name);
    }
}
