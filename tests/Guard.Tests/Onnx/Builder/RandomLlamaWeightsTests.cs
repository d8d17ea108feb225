using Guard.Onnx.Builder;

namespace Guard.Tests.Onnx.Builder;

public sealed class RandomLlamaWeightsTests
{
    [Fact]
    public void Get_IsDeterministicPerSeedAndTensor()
    {
        var a = new RandomLlamaWeights(TinyModels.Gqa, seed: 5, scale: 0.1f);
        var b = new RandomLlamaWeights(TinyModels.Gqa, seed: 5, scale: 0.1f);
        var c = new RandomLlamaWeights(TinyModels.Gqa, seed: 6, scale: 0.1f);
        const string Name = "model.layers.1.self_attn.q_proj.weight";

        _ = b.Get(LlamaTensorNames.Embedding);
        Assert.Equal(a.Get(Name), b.Get(Name));
        Assert.NotEqual(a.Get(Name), c.Get(Name));
        Assert.NotEqual(a.Get(Name), a.Get("model.layers.0.self_attn.q_proj.weight"));
        Assert.Equal("random:seed=5", a.Source);
        Assert.True(a.IsRandom);
    }

    [Fact]
    public void Get_LinearWeightsHaveTheScaleAsStandardDeviation_NormsAreNearOne()
    {
        var weights = new RandomLlamaWeights(TinyModels.Llama3, seed: 1, scale: 0.05f);
        var embedding = weights.Get(LlamaTensorNames.Embedding);
        Assert.Equal(512 * 64, embedding.Length);
        var std = Math.Sqrt(embedding.Average(v => (double)v * v));
        Assert.InRange(std, 0.048, 0.052);
        Assert.InRange(Math.Abs(embedding.Average()), 0, 0.002);

        var norm = weights.Get(LlamaTensorNames.FinalNorm);
        Assert.All(norm, v => Assert.InRange(v, 0.5f, 1.5f));
        Assert.Equal(embedding, weights.Get(LlamaTensorNames.LmHead));
    }

    [Fact]
    public void Get_UnknownTensor_Throws()
    {
        var weights = new RandomLlamaWeights(TinyModels.Gqa, seed: 1);
        var ex = Assert.Throws<ArgumentException>(() => weights.Get("model.layers.2.mlp.up_proj.weight"));
        Assert.Contains("2 layers", ex.Message, StringComparison.Ordinal);
    }
}
