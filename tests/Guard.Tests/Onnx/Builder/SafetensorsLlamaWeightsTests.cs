using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Guard.Onnx.Builder;
using Guard.Onnx.Models;
using Guard.Prompts;
using Guard.Tests.Onnx.Reference;
using Xunit.Abstractions;

namespace Guard.Tests.Onnx.Builder;

public sealed class SafetensorsLlamaWeightsTests(ITestOutputHelper output)
{
    private const string UpProj1 = "model.layers.1.mlp.up_proj.weight";

    [Theory]
    [InlineData("F32")]
    [InlineData("BF16")]
    [InlineData("F16")]
    public void RoundTrip_ReadsTheWrittenValues_AndTheBuiltModelMatchesTheReference(string dtype)
    {
        using var dir = new TempDirectory();
        var checkpoint = dir.Combine("tiny-llama");
        var random = new RandomLlamaWeights(TinyModels.Gqa, seed: 21, scale: 0.2f);
        SafetensorsTestWriter.WriteCheckpoint(checkpoint, random, dtype);
        File.WriteAllText(Path.Combine(checkpoint, "tokenizer.json"), "{\"model\":{}}");

        var weights = new SafetensorsLlamaWeights(checkpoint);
        Assert.Equal(TinyModels.Gqa, weights.Config);
        foreach (var tensor in LlamaTensorNames.All(weights.Config))
        {
            var expected = random.Get(tensor.Name).Select(v => dtype switch
            {
                "F32" => v,
                "F16" => (float)(Half)v,
                _ => SafetensorsTestWriter.FromBFloat16(SafetensorsTestWriter.ToBFloat16(v)),
            });
            Assert.Equal(expected, weights.Get(tensor.Name));
        }

        var model = dir.Combine("model");
        var manifest = LlamaOnnxBuilder.Build(weights, new LlamaBuildOptions { Family = GuardFamily.LlamaGuard2, ModelId = "tiny-st" }, model);
        Assert.Equal("safetensors:tiny-llama", manifest.Source);
        Assert.False(manifest.RandomWeights);
        Assert.True(File.Exists(Path.Combine(model, "tokenizer.json")), "the checkpoint's tokenizer is copied by default");

        var worst = LlamaOnnxBuilderTests.RunIncremental(model, new LlamaReference(weights), prefix: 5, steps: 3, LlamaOnnxBuilderTests.Float32Tolerance);
        output.WriteLine($"safetensors {dtype}: max relative error {worst:E2}");
    }

    [Fact]
    public void Sharded_ReadsTensorsThroughTheIndex()
    {
        using var dir = new TempDirectory();
        var random = new RandomLlamaWeights(TinyModels.Llama3, seed: 22);
        WriteSharded(dir.Path, random);

        var weights = new SafetensorsLlamaWeights(dir.Path);
        Assert.Equal(random.Get(UpProj1), weights.Get(UpProj1));
        var embedding = random.Get(LlamaTensorNames.Embedding).Select(v => SafetensorsTestWriter.FromBFloat16(SafetensorsTestWriter.ToBFloat16(v)));
        Assert.Equal(embedding, weights.Get(LlamaTensorNames.Embedding));
        Assert.Equal(embedding, weights.Get(LlamaTensorNames.LmHead));
    }

    [Fact]
    public void MissingTensor_NamesTheFileAndTheTensor()
    {
        using var dir = new TempDirectory();
        SafetensorsTestWriter.WriteCheckpoint(dir.Path, new RandomLlamaWeights(TinyModels.Gqa, 1), "F32", name => name != UpProj1 && name != LlamaTensorNames.LmHead);

        var ex = Assert.Throws<LlamaCheckpointException>(() => new SafetensorsLlamaWeights(dir.Path));
        Assert.Equal(Path.Combine(dir.Path, "model.safetensors"), ex.FilePath);
        Assert.Contains($"tensor '{UpProj1}' is missing", ex.Message, StringComparison.Ordinal);
        Assert.Contains("tensor 'lm_head.weight' is missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShapeMismatch_NamesTheFileTensorAndBothShapes()
    {
        using var dir = new TempDirectory();
        SafetensorsTestWriter.WriteCheckpoint(dir.Path, new RandomLlamaWeights(TinyModels.Gqa with { IntermediateSize = 96 }, 1), "F32");
        LlamaConfigJson.Write(TinyModels.Gqa, Path.Combine(dir.Path, "config.json"));

        var ex = Assert.Throws<LlamaCheckpointException>(() => new SafetensorsLlamaWeights(dir.Path));
        Assert.Equal(Path.Combine(dir.Path, "model.safetensors"), ex.FilePath);
        Assert.Contains("tensor 'model.layers.0.mlp.gate_proj.weight' has shape [96, 64], but", ex.Message, StringComparison.Ordinal);
        Assert.Contains("config.json gives [112, 64]", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'model.layers.1.mlp.down_proj.weight' has shape [64, 96]", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingConfig_NamesConfigJson()
    {
        using var dir = new TempDirectory();
        SafetensorsTestWriter.WriteCheckpoint(dir.Path, new RandomLlamaWeights(TinyModels.Mha, 1), "F32");
        File.Delete(Path.Combine(dir.Path, "config.json"));

        var ex = Assert.Throws<LlamaCheckpointException>(() => new SafetensorsLlamaWeights(dir.Path));
        Assert.Equal(Path.Combine(dir.Path, "config.json"), ex.FilePath);
        Assert.Contains("config file not found", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingDirectoryOrSafetensors_AreNamed()
    {
        using var dir = new TempDirectory();
        var missing = dir.Combine("absent");
        var ex = Assert.Throws<LlamaCheckpointException>(() => new SafetensorsLlamaWeights(missing));
        Assert.Equal(missing, ex.FilePath);

        LlamaConfigJson.Write(TinyModels.Mha, Path.Combine(dir.Path, "config.json"));
        ex = Assert.Throws<LlamaCheckpointException>(() => new SafetensorsLlamaWeights(dir.Path));
        Assert.Contains("no *.safetensors file", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json at all", "not valid JSON")]
    [InlineData("[1, 2]", "not a JSON object")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [4]}}", "lacks dtype, shape or a [begin, end] data_offsets pair")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 64]}}", "outside the 16-byte data buffer")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 16]}}", "needs 8 bytes but data_offsets span 16")]
    public void CorruptHeader_NamesTheFileAndTheProblem(string header, string problem)
    {
        using var dir = new TempDirectory();
        LlamaConfigJson.Write(TinyModels.Mha, Path.Combine(dir.Path, "config.json"));
        var path = Path.Combine(dir.Path, "model.safetensors");
        WriteRaw(path, Encoding.UTF8.GetBytes(header), dataBytes: 16);

        var ex = Assert.Throws<LlamaCheckpointException>(() => new SafetensorsLlamaWeights(dir.Path));
        Assert.Equal(path, ex.FilePath);
        Assert.Contains("corrupt safetensors header", ex.Message, StringComparison.Ordinal);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeaderLengthBeyondTheFile_IsCorrupt()
    {
        using var dir = new TempDirectory();
        LlamaConfigJson.Write(TinyModels.Mha, Path.Combine(dir.Path, "config.json"));
        var path = Path.Combine(dir.Path, "model.safetensors");
        var bytes = new byte[20];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 1000);
        File.WriteAllBytes(path, bytes);

        var ex = Assert.Throws<LlamaCheckpointException>(() => new SafetensorsLlamaWeights(dir.Path));
        Assert.Equal(path, ex.FilePath);
        Assert.Contains("header length 1000 exceeds the file (20 bytes)", ex.Message, StringComparison.Ordinal);

        File.WriteAllBytes(path, [1, 2, 3]);
        ex = Assert.Throws<LlamaCheckpointException>(() => new SafetensorsLlamaWeights(dir.Path));
        Assert.Contains("fewer than the 8-byte header length", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnsupportedDType_IsNamed()
    {
        using var dir = new TempDirectory();
        var random = new RandomLlamaWeights(TinyModels.Mha, 1);
        SafetensorsTestWriter.WriteCheckpoint(dir.Path, random, "F32");
        var path = Path.Combine(dir.Path, "model.safetensors");
        var bytes = File.ReadAllBytes(path);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = Encoding.UTF8.GetString(bytes, 8, headerLength);
        var patched = header.Replace("\"F32\"", "\"I32\"", StringComparison.Ordinal);
        File.WriteAllBytes(path, [.. bytes[..8], .. Encoding.UTF8.GetBytes(patched), .. bytes[(8 + headerLength)..]]);

        var ex = Assert.Throws<LlamaCheckpointException>(() => new SafetensorsLlamaWeights(dir.Path));
        Assert.Contains("tensor 'model.embed_tokens.weight' has dtype I32; supported: F32, F16, BF16", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Index_MissingShardOrTensor_NamesTheIndexAndShard()
    {
        using var dir = new TempDirectory();
        WriteSharded(dir.Path, new RandomLlamaWeights(TinyModels.Llama3, 2));
        var second = Path.Combine(dir.Path, "model-00002-of-00002.safetensors");
        File.Delete(second);

        var ex = Assert.Throws<LlamaCheckpointException>(() => new SafetensorsLlamaWeights(dir.Path));
        Assert.Equal(second, ex.FilePath);
        Assert.Contains("shard not found (named by", ex.Message, StringComparison.Ordinal);
        Assert.Contains(SafetensorsLlamaWeights.IndexFileName, ex.Message, StringComparison.Ordinal);

        var indexPath = Path.Combine(dir.Path, SafetensorsLlamaWeights.IndexFileName);
        WriteSharded(dir.Path, new RandomLlamaWeights(TinyModels.Llama3, 2));
        var index = File.ReadAllText(indexPath).Replace($"\"{UpProj1}\"", "\"renamed\"", StringComparison.Ordinal);
        File.WriteAllText(indexPath, index);
        ex = Assert.Throws<LlamaCheckpointException>(() => new SafetensorsLlamaWeights(dir.Path));
        Assert.Equal(indexPath, ex.FilePath);
        Assert.Contains($"tensor '{UpProj1}' is missing from the weight_map", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigDimsThatDoNotFit_NameConfigJson()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "config.json");
        File.WriteAllText(path, """{"model_type": "llama", "vocab_size": 100, "hidden_size": 30, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4}""");

        var ex = Assert.Throws<LlamaCheckpointException>(() => new SafetensorsLlamaWeights(dir.Path));
        Assert.Equal(path, ex.FilePath);
        Assert.Contains("hidden_size 30 is not a multiple of num_attention_heads 4", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"vocab_size": 100}""", "missing required properties")]
    [InlineData("""{"model_type": "mistral", "vocab_size": 100, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4}""", "model_type is \"mistral\"")]
    [InlineData("""{"attention_bias": true, "vocab_size": 100, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4}""", "attention_bias is true")]
    [InlineData("""{"vocab_size": 100, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "rope_scaling": {"type": "dynamic", "factor": 2.0}}""", "rope_scaling type \"dynamic\" is not supported")]
    [InlineData("""{"vocab_size": 100, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "head_dim": 16}""", "head_dim 16 differs")]
    [InlineData("{ nope", "not valid JSON")]
    public void Config_Unsupported_IsExplained(string json, string problem)
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "config.json");
        File.WriteAllText(path, json);

        var ex = Assert.Throws<LlamaCheckpointException>(() => LlamaConfigJson.Read(path));
        Assert.Equal(path, ex.FilePath);
        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Config_Llama31Style_IsRead()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "config.json");
        File.WriteAllText(path, """
            {
              "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
              "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu",
              "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
              "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "llama",
              "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8, "pretraining_tp": 1,
              "rms_norm_eps": 1e-05,
              "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"},
              "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 128256
            }
            """);

        var config = LlamaConfigJson.Read(path);
        Assert.Equal(128256, config.VocabSize);
        Assert.Equal(8, config.NumKvHeads);
        Assert.Equal(128, config.HeadDim);
        Assert.Equal(128000, config.BosTokenId);
        Assert.Equal(128001, config.EosTokenId);
        Assert.Equal(500000, config.RopeTheta);
        Assert.Equal("llama3", config.RopeScaling?.Kind);
        Assert.Equal(8192, config.RopeScaling?.OriginalMaxPositions);
    }

    private static void WriteSharded(string directory, RandomLlamaWeights weights)
    {
        LlamaConfigJson.Write(weights.Config, Path.Combine(directory, "config.json"));
        var tensors = SafetensorsTestWriter.Tensors(weights).ToList();
        var half = tensors.Count / 2;
        string[] shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
        SafetensorsTestWriter.Write(Path.Combine(directory, shards[0]), tensors[..half], "BF16");
        SafetensorsTestWriter.Write(Path.Combine(directory, shards[1]), tensors[half..], "F32");
        var map = tensors.Select((t, i) => (t.Item1, shards[i < half ? 0 : 1])).ToDictionary(p => p.Item1, p => p.Item2);
        File.WriteAllText(
            Path.Combine(directory, SafetensorsLlamaWeights.IndexFileName),
            JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = map }));
    }

    private static void WriteRaw(string path, byte[] header, int dataBytes)
    {
        var bytes = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)header.Length);
        header.CopyTo(bytes, 8);
        File.WriteAllBytes(path, bytes);
    }
}
