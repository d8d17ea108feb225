using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Guard.Onnx.Builder;
using Guard.Onnx.Models;
using Guard.Prompts;

namespace Guard.Tests.Onnx.Builder;

/// <summary>
/// The model digest the builder records in manifest.json, checked against an independent computation of the
/// documented rule: SHA-256 over the lines "&lt;sha256 of the file&gt; &lt;length&gt; &lt;name&gt;\n", sorted by name.
/// </summary>
public sealed class ModelDigestTests
{
    private const float Scale = 0.2f;

    [Theory]
    [InlineData(false, new[] { "model.onnx" })]
    [InlineData(true, new[] { "model.onnx", "model.onnx.data" })]
    public void Build_RecordsTheDigestOfTheGraphAndItsDataFiles_ByTheDocumentedRule(bool external, string[] covered)
    {
        using var dir = new TempDirectory();
        var manifest = Build(dir.Path, new RandomLlamaWeights(TinyModels.Gqa, seed: 3, Scale), external);

        Assert.Equal(covered, manifest.WeightsFiles!.Select(f => f.Name));
        foreach (var file in manifest.WeightsFiles!)
        {
            var bytes = File.ReadAllBytes(dir.Combine(file.Name));
            Assert.Equal(bytes.LongLength, file.Length);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), file.Sha256);
        }

        Assert.Equal(IndependentDigest(dir.Path, covered), manifest.WeightsSha256);
        Assert.Equal(ModelDigest.Compute(dir.Path, covered).Sha256, manifest.WeightsSha256);
    }

    [Fact]
    public void Build_OneWeightValueChanged_ChangesTheDataFileAndTheModelDigest_NotTheGraph()
    {
        using var dir = new TempDirectory();
        var weights = new RandomLlamaWeights(TinyModels.Gqa, seed: 4, Scale);
        var a = Build(dir.Combine("a"), weights, external: true);
        var b = Build(dir.Combine("b"), new OneValueChanged(weights, "model.layers.1.mlp.down_proj.weight", index: 17), external: true);

        Assert.NotEqual(a.WeightsSha256, b.WeightsSha256);
        Assert.Equal(a.WeightsFiles![0], b.WeightsFiles![0]);
        Assert.NotEqual(a.WeightsFiles[1].Sha256, b.WeightsFiles[1].Sha256);
        Assert.Equal(a.WeightsFiles[1].Length, b.WeightsFiles[1].Length);

        // The files differ in exactly one 4-byte value, and the independent digest sees it.
        var dataA = File.ReadAllBytes(dir.Combine("a", "model.onnx.data"));
        var dataB = File.ReadAllBytes(dir.Combine("b", "model.onnx.data"));
        var differing = Enumerable.Range(0, dataA.Length).Where(i => dataA[i] != dataB[i]).ToList();
        Assert.InRange(differing.Count, 1, 4);
        Assert.True(differing[^1] - differing[0] < 4);
        Assert.Equal(IndependentDigest(dir.Combine("b"), ["model.onnx", "model.onnx.data"]), b.WeightsSha256);
    }

    [Fact]
    public void Build_SameWeightsTwice_GivesTheSameDigest()
    {
        using var dir = new TempDirectory();
        var weights = new RandomLlamaWeights(TinyModels.Mha, seed: 5, Scale);
        Assert.Equal(Build(dir.Combine("a"), weights, external: false).WeightsSha256, Build(dir.Combine("b"), weights, external: false).WeightsSha256);
    }

    [Fact]
    public void Manifest_RoundTripsTheDigestAndItsFiles()
    {
        using var dir = new TempDirectory();
        var built = Build(dir.Path, new RandomLlamaWeights(TinyModels.Mha, seed: 6, Scale), external: true);

        var read = ModelManifest.Read(dir.Path);

        Assert.Equal(built.WeightsSha256, read.WeightsSha256);
        Assert.Equal(built.WeightsFiles!, read.WeightsFiles!);
        var json = JsonNode.Parse(File.ReadAllText(dir.Combine("manifest.json")))!;
        Assert.Equal(built.WeightsSha256, json["weights_sha256"]!.GetValue<string>());
        Assert.Equal("model.onnx.data", json["weights_files"]![1]!["name"]!.GetValue<string>());
        Assert.Equal(built.WeightsFiles![1].Length, json["weights_files"]![1]!["length"]!.GetValue<long>());
        Assert.Equal(built.WeightsFiles![1].Sha256, json["weights_files"]![1]!["sha256"]!.GetValue<string>());

        // Written again and read back, nothing changes.
        read.Write(dir.Path);
        var again = ModelManifest.Read(dir.Path);
        Assert.Equal(read with { WeightsFiles = null, Config = again.Config }, again with { WeightsFiles = null });
        Assert.Equal(read.WeightsFiles!, again.WeightsFiles!);
    }

    [Fact]
    public void Manifest_WithoutDigest_StillLoads_AndWritesNoDigestFields()
    {
        using var dir = new TempDirectory();
        Build(dir.Path, new RandomLlamaWeights(TinyModels.Mha, seed: 7, Scale), external: false);
        var json = JsonNode.Parse(File.ReadAllText(dir.Combine("manifest.json")))!.AsObject();
        json.Remove("weights_sha256");
        json.Remove("weights_files");
        File.WriteAllText(dir.Combine("manifest.json"), json.ToJsonString());

        var read = ModelManifest.Read(dir.Path);

        Assert.Null(read.WeightsSha256);
        Assert.Null(read.WeightsFiles);
        Assert.Equal("tiny", read.ModelId);
        read.Write(dir.Path);
        Assert.DoesNotContain("weights_", File.ReadAllText(dir.Combine("manifest.json")), StringComparison.Ordinal);
    }

    [Fact]
    public void Combine_IsIndependentOfOrder_AndRejectsBadEntries()
    {
        var graph = new ModelFileDigest { Name = "model.onnx", Length = 10, Sha256 = new string('a', 64) };
        var data = new ModelFileDigest { Name = "model.onnx.data", Length = 20, Sha256 = new string('B', 64) };
        var expected = Sha256Hex($"{new string('a', 64)} 10 model.onnx\n{new string('b', 64)} 20 model.onnx.data\n");

        Assert.Equal(expected, ModelDigest.Combine([data, graph]));
        Assert.Equal(expected, ModelDigest.Combine([graph, data]));
        Assert.Throws<ArgumentException>(() => ModelDigest.Combine([]));
        Assert.Throws<ArgumentException>(() => ModelDigest.Combine([graph, graph]));
        Assert.Throws<ArgumentException>(() => ModelDigest.Combine([graph with { Name = "a\nb" }]));
        Assert.Throws<ArgumentException>(() => ModelDigest.Combine([graph with { Length = -1 }]));
        Assert.Throws<ArgumentException>(() => ModelDigest.Combine([graph with { Sha256 = "abc" }]));
    }

    [Fact]
    public void HashingFileStream_HashesWhatItWrites_AndCannotSeek()
    {
        using var dir = new TempDirectory();
        var path = dir.Combine("f.bin");
        var bytes = Enumerable.Range(0, 5000).Select(i => (byte)(i * 31)).ToArray();
        ModelFileDigest digest;
        using (var stream = new HashingFileStream(path))
        {
            stream.Write(bytes, 0, 1000);
            stream.WriteByte(bytes[1000]);
            stream.Write(bytes.AsSpan(1001));
            Assert.Equal(5000, stream.Position);
            Assert.Throws<NotSupportedException>(() => stream.Seek(0, SeekOrigin.Begin));
            digest = stream.Complete("f.bin");
        }

        Assert.Equal(new ModelFileDigest { Name = "f.bin", Length = 5000, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) }, digest);
        Assert.Equal(bytes, File.ReadAllBytes(path));
    }

    /// <summary>The documented rule, written out independently of the library.</summary>
    internal static string IndependentDigest(string directory, IEnumerable<string> names)
    {
        var text = new StringBuilder();
        foreach (var name in names.Order(StringComparer.Ordinal))
        {
            var bytes = File.ReadAllBytes(Path.Combine(directory, name));
            text.Append(CultureInfo.InvariantCulture, $"{Convert.ToHexStringLower(SHA256.HashData(bytes))} {bytes.LongLength} {name}\n");
        }

        return Sha256Hex(text.ToString());
    }

    private static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private static ModelManifest Build(string directory, ILlamaWeights weights, bool external) =>
        LlamaOnnxBuilder.Build(weights, new LlamaBuildOptions { Family = GuardFamily.LlamaGuard1, ModelId = "tiny", ExternalData = external }, directory);

    /// <summary>Other weights that differ from <paramref name="inner"/> in one value of one tensor.</summary>
    private sealed class OneValueChanged(ILlamaWeights inner, string tensor, int index) : ILlamaWeights
    {
        public LlamaConfig Config => inner.Config;

        public string Source => inner.Source;

        public bool IsRandom => inner.IsRandom;

        public float[] Get(string name)
        {
            var values = inner.Get(name);
            if (name == tensor)
            {
                values[index] += 0.25f;
            }

            return values;
        }
    }
}
