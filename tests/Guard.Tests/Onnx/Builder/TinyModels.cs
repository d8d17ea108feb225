using Guard.Onnx.Models;

namespace Guard.Tests.Onnx.Builder;

/// <summary>Tiny Llama shapes and inputs for the builder tests.</summary>
internal static class TinyModels
{
    /// <summary>Grouped-query attention: 4 heads sharing 2 KV heads.</summary>
    public static LlamaConfig Gqa { get; } = new()
    {
        VocabSize = 160,
        HiddenSize = 64,
        IntermediateSize = 112,
        NumLayers = 2,
        NumHeads = 4,
        NumKvHeadsConfigured = 2,
        MaxPositions = 64,
        RmsNormEps = 1e-5,
        RopeTheta = 10000,
    };

    /// <summary>Multi-head attention (Llama 2 / LlamaGuard-7b style): KV heads = heads.</summary>
    public static LlamaConfig Mha { get; } = Gqa with { VocabSize = 96, HiddenSize = 32, IntermediateSize = 80, NumKvHeadsConfigured = 4 };

    /// <summary>Llama 3.1 style: 1 KV head for 4 heads, tied embeddings, llama3 RoPE scaling that changes the frequencies at this size.</summary>
    public static LlamaConfig Llama3 { get; } = Gqa with
    {
        VocabSize = 512,
        NumKvHeadsConfigured = 1,
        RopeTheta = 500000,
        TieWordEmbeddings = true,
        RopeScaling = new LlamaRopeScaling { RopeType = "llama3", Factor = 8, LowFreqFactor = 1, HighFreqFactor = 4, OriginalMaxPositions = 32 },
    };

    public static TheoryData<string> Names => ["gqa", "mha", "llama3"];

    public static LlamaConfig ByName(string name) => name switch
    {
        "gqa" => Gqa,
        "mha" => Mha,
        "llama3" => Llama3,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    /// <summary>Deterministic token ids in [0, vocab).</summary>
    public static long[] Tokens(int count, int vocab, int seed) =>
        [.. Enumerable.Range(0, count).Select(i => (long)((((i + 1) * 7919) + (seed * 104729)) % vocab))];

    public static long[] Range(long start, int count) => [.. Enumerable.Range(0, count).Select(i => start + i)];

    public static long[] Ones(int count) => [.. Enumerable.Repeat(1L, count)];
}
