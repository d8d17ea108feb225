using Google.Protobuf;
using Guard.Onnx.Builder;
using Guard.Onnx.Models;
using Guard.Tests.Onnx.Reference;
using Xunit.Abstractions;

namespace Guard.Tests.Onnx.Builder;

/// <summary>
/// The fused graph (<see cref="LlamaBuildOptions.FusedOperators"/>: ONNX Runtime's contrib operators) against the same
/// double-precision reference as the standard graph, with the same tolerances (<see cref="LlamaOnnxBuilderTests"/>).
/// </summary>
public sealed class FusedGraphTests(ITestOutputHelper output)
{
    [Fact]
    public void Fused_SessionListsTheStandardSignature()
    {
        using var dir = new TempDirectory();
        LlamaOnnxBuilderTests.Build(dir.Combine("standard"), TinyModels.Gqa, seed: 1);
        LlamaOnnxBuilderTests.Build(dir.Combine("fused"), TinyModels.Gqa, seed: 1, fused: true);
        using var standard = new OrtDecoder(dir.Combine("standard"));
        using var fused = new OrtDecoder(dir.Combine("fused"));

        Assert.Equal(standard.Session.InputNames, fused.Session.InputNames);
        Assert.Equal(standard.Session.OutputNames, fused.Session.OutputNames);
        foreach (var (expected, actual) in new[] { (standard.Session.InputMetadata, fused.Session.InputMetadata), (standard.Session.OutputMetadata, fused.Session.OutputMetadata) })
        {
            foreach (var (name, meta) in expected)
            {
                Assert.Equal(meta.ElementDataType, actual[name].ElementDataType);
                Assert.Equal(meta.Dimensions, actual[name].Dimensions);
                Assert.Equal(meta.SymbolicDimensions, actual[name].SymbolicDimensions);
            }
        }
    }

    [Fact]
    public void Fused_ManifestFlagAndOpsetImports()
    {
        using var dir = new TempDirectory();
        LlamaOnnxBuilderTests.Build(dir.Combine("standard"), TinyModels.Gqa, seed: 1);
        LlamaOnnxBuilderTests.Build(dir.Combine("fused"), TinyModels.Gqa, seed: 1, fused: true);

        Assert.False(ModelManifest.Read(dir.Combine("standard")).FusedOperators);
        Assert.True(ModelManifest.Read(dir.Combine("fused")).FusedOperators);
        Assert.Contains("\"fused_operators\": true", File.ReadAllText(Path.Combine(dir.Combine("fused"), ModelManifest.FileName)), StringComparison.Ordinal);
        Assert.Equal([("", 17L)], OpsetImports(Path.Combine(dir.Combine("standard"), "model.onnx")));
        Assert.Equal([("", 17L), ("com.microsoft", 1L)], OpsetImports(Path.Combine(dir.Combine("fused"), "model.onnx")));
    }

    [Fact]
    public void Fused_WithSharedPrefix_IsRejectedNamingBoth()
    {
        using var dir = new TempDirectory();
        var options = LlamaOnnxBuilderTests.Options();
        options.FusedOperators = true;
        options.SharedPrefix = true;

        var ex = Assert.Throws<ArgumentException>(() => LlamaOnnxBuilder.Build(new RandomLlamaWeights(TinyModels.Gqa, seed: 1), options, dir.Path));
        Assert.Contains("FusedOperators and SharedPrefix cannot be combined", ex.Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Fused_HeadSizeNotAMultipleOf8_IsRejected()
    {
        using var dir = new TempDirectory();
        var options = LlamaOnnxBuilderTests.Options();
        options.FusedOperators = true;
        var config = TinyModels.Mha with { HiddenSize = 16 };

        var ex = Assert.Throws<ArgumentException>(() => LlamaOnnxBuilder.Build(new RandomLlamaWeights(config, seed: 1), options, dir.Path));
        Assert.Contains("FusedOperators needs a head size that is a multiple of 8", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TinyModels.Names), MemberType = typeof(TinyModels))]
    public void Fused_FullPrompt_MatchesReference(string model)
    {
        var config = TinyModels.ByName(model);
        using var dir = new TempDirectory();
        var reference = new LlamaReference(LlamaOnnxBuilderTests.Build(dir.Path, config, seed: 11, fused: true));
        var tokens = TinyModels.Tokens(13, config.VocabSize, seed: 3);

        using var decoder = new OrtDecoder(dir.Path);
        using var step = decoder.Run([tokens], [TinyModels.Ones(tokens.Length)], [TinyModels.Range(0, tokens.Length)], past: null);
        Assert.Equal([1L, tokens.Length, config.VocabSize], step.LogitsShape);
        var expected = reference.Forward(tokens);
        var worst = LogitComparison.AssertRowClose(step, 0, 0, expected, LlamaOnnxBuilderTests.Float32Tolerance, model);

        output.WriteLine($"{model} fused fp32 full prompt: max relative error {worst:E2}");
    }

    [Theory]
    [MemberData(nameof(TinyModels.Names), MemberType = typeof(TinyModels))]
    public void Fused_IncrementalSteps_WithKvCache_MatchReference(string model)
    {
        var config = TinyModels.ByName(model);
        using var dir = new TempDirectory();
        var reference = new LlamaReference(LlamaOnnxBuilderTests.Build(dir.Path, config, seed: 12, fused: true));
        var worst = LlamaOnnxBuilderTests.RunIncremental(dir.Path, reference, prefix: 6, steps: 5, LlamaOnnxBuilderTests.Float32Tolerance);
        output.WriteLine($"{model} fused fp32 incremental: max relative error {worst:E2}");
    }

    [Theory]
    [MemberData(nameof(TinyModels.Names), MemberType = typeof(TinyModels))]
    public void Fused_Float16_MatchesReferenceWithinHalfPrecisionTolerance(string model)
    {
        var config = TinyModels.ByName(model);
        using var dir = new TempDirectory();
        var reference = new LlamaReference(LlamaOnnxBuilderTests.Build(dir.Path, config, seed: 15, OnnxDType.Float16, fused: true));
        var worst = LlamaOnnxBuilderTests.RunIncremental(dir.Path, reference, prefix: 7, steps: 4, LlamaOnnxBuilderTests.Float16Tolerance);
        output.WriteLine($"{model} fused fp16 full prompt + incremental: max relative error {worst:E2}");
    }

    /// <summary>A cached prefix continued by several tokens in one pass (the engine's prefix reuse), then a step.</summary>
    [Theory]
    [InlineData(OnnxDType.Float32)]
    [InlineData(OnnxDType.Float16)]
    public void Fused_SeveralTokensAfterACache_MatchReference(OnnxDType dtype)
    {
        var config = TinyModels.Gqa;
        var tolerance = dtype == OnnxDType.Float32 ? LlamaOnnxBuilderTests.Float32Tolerance : LlamaOnnxBuilderTests.Float16Tolerance;
        using var dir = new TempDirectory();
        var reference = new LlamaReference(LlamaOnnxBuilderTests.Build(dir.Path, config, seed: 17, dtype, fused: true));
        var tokens = TinyModels.Tokens(12, config.VocabSize, seed: 5);
        var expected = reference.Forward(tokens);

        using var decoder = new OrtDecoder(dir.Path);
        using var prefix = decoder.Run([tokens[..5]], [TinyModels.Ones(5)], [TinyModels.Range(0, 5)], past: null);
        using var rest = decoder.Run([tokens[5..11]], [TinyModels.Ones(11)], [TinyModels.Range(5, 6)], prefix);
        Assert.Equal([1L, config.NumKvHeads, 11, config.HeadDim], rest.PresentShape(0));
        var worst = LogitComparison.AssertRowClose(rest, 0, 0, expected[5..11], tolerance, "after the cache");

        using var step = decoder.Run([[tokens[11]]], [TinyModels.Ones(12)], [[11]], rest);
        worst = Math.Max(worst, LogitComparison.AssertClose(step.Row(0, 0), expected[11], tolerance, "step at position 11"));
        output.WriteLine($"fused {dtype} prefix continuation: max relative error {worst:E2}");
    }

    [Fact]
    public void Fused_LastTokenLogitsOnly_ReturnsTheLastPosition()
    {
        var config = TinyModels.Gqa;
        using var dir = new TempDirectory();
        var reference = new LlamaReference(LlamaOnnxBuilderTests.Build(dir.Path, config, seed: 14, lastTokenOnly: true, fused: true));
        var tokens = TinyModels.Tokens(8, config.VocabSize, seed: 4);
        var cache = reference.NewCache();

        using var decoder = new OrtDecoder(dir.Path);
        using var first = decoder.Run([tokens], [TinyModels.Ones(8)], [TinyModels.Range(0, 8)], past: null);
        Assert.Equal([1L, 1, config.VocabSize], first.LogitsShape);
        var worst = LogitComparison.AssertClose(first.Row(0, 0), reference.Forward(cache, tokens, TinyModels.Range(0, 8))[^1], LlamaOnnxBuilderTests.Float32Tolerance, "last");
        using var second = decoder.Run([[3]], [TinyModels.Ones(9)], [[8]], first);
        worst = Math.Max(worst, LogitComparison.AssertClose(second.Row(0, 0), reference.Forward(cache, [3], [8])[0], LlamaOnnxBuilderTests.Float32Tolerance, "step"));
        output.WriteLine($"fused last-token logits: max relative error {worst:E2}");
    }

    /// <summary>The <c>opset_import</c> entries (field 8 of <c>ModelProto</c>: domain, version) of a graph file.</summary>
    private static List<(string Domain, long Version)> OpsetImports(string path)
    {
        var imports = new List<(string, long)>();
        var input = new CodedInputStream(File.ReadAllBytes(path));
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) != 8)
            {
                input.SkipLastField();
                continue;
            }

            var entry = new CodedInputStream(input.ReadBytes().ToByteArray());
            var (domain, version) = (string.Empty, 0L);
            while ((tag = entry.ReadTag()) != 0)
            {
                switch (WireFormat.GetTagFieldNumber(tag))
                {
                    case 1: domain = entry.ReadString(); break;
                    case 2: version = entry.ReadInt64(); break;
                    default: entry.SkipLastField(); break;
                }
            }

            imports.Add((domain, version));
        }

        return imports;
    }
}
