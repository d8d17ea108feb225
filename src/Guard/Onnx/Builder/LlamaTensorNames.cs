using System.Globalization;
using Guard.Onnx.Models;

namespace Guard.Onnx.Builder;

/// <summary>The Hugging Face tensor names of a Llama decoder and the shapes a <see cref="LlamaConfig"/> gives them.</summary>
public static class LlamaTensorNames
{
    /// <summary>The token embedding <c>[vocab, hidden]</c>.</summary>
    public const string Embedding = "model.embed_tokens.weight";

    /// <summary>The final RMSNorm weight <c>[hidden]</c>.</summary>
    public const string FinalNorm = "model.norm.weight";

    /// <summary>The output projection <c>[vocab, hidden]</c> (absent when <c>tie_word_embeddings</c>: the embedding is used).</summary>
    public const string LmHead = "lm_head.weight";

    /// <summary>The attention RMSNorm weight of a layer <c>[hidden]</c>.</summary>
    /// <param name="layer">The layer index.</param>
    /// <returns>The tensor name.</returns>
    public static string InputNorm(int layer) => Layer(layer, "input_layernorm.weight");

    /// <summary>The query projection of a layer <c>[heads * head_dim, hidden]</c>.</summary>
    /// <param name="layer">The layer index.</param>
    /// <returns>The tensor name.</returns>
    public static string QProj(int layer) => Layer(layer, "self_attn.q_proj.weight");

    /// <summary>The key projection of a layer <c>[kv_heads * head_dim, hidden]</c>.</summary>
    /// <param name="layer">The layer index.</param>
    /// <returns>The tensor name.</returns>
    public static string KProj(int layer) => Layer(layer, "self_attn.k_proj.weight");

    /// <summary>The value projection of a layer <c>[kv_heads * head_dim, hidden]</c>.</summary>
    /// <param name="layer">The layer index.</param>
    /// <returns>The tensor name.</returns>
    public static string VProj(int layer) => Layer(layer, "self_attn.v_proj.weight");

    /// <summary>The attention output projection of a layer <c>[hidden, heads * head_dim]</c>.</summary>
    /// <param name="layer">The layer index.</param>
    /// <returns>The tensor name.</returns>
    public static string OProj(int layer) => Layer(layer, "self_attn.o_proj.weight");

    /// <summary>The MLP RMSNorm weight of a layer <c>[hidden]</c>.</summary>
    /// <param name="layer">The layer index.</param>
    /// <returns>The tensor name.</returns>
    public static string PostAttentionNorm(int layer) => Layer(layer, "post_attention_layernorm.weight");

    /// <summary>The MLP gate projection of a layer <c>[intermediate, hidden]</c>.</summary>
    /// <param name="layer">The layer index.</param>
    /// <returns>The tensor name.</returns>
    public static string GateProj(int layer) => Layer(layer, "mlp.gate_proj.weight");

    /// <summary>The MLP up projection of a layer <c>[intermediate, hidden]</c>.</summary>
    /// <param name="layer">The layer index.</param>
    /// <returns>The tensor name.</returns>
    public static string UpProj(int layer) => Layer(layer, "mlp.up_proj.weight");

    /// <summary>The MLP down projection of a layer <c>[hidden, intermediate]</c>.</summary>
    /// <param name="layer">The layer index.</param>
    /// <returns>The tensor name.</returns>
    public static string DownProj(int layer) => Layer(layer, "mlp.down_proj.weight");

    /// <summary>Lists every tensor a checkpoint for <paramref name="config"/> must hold, with its shape, in checkpoint order.</summary>
    /// <param name="config">The model's dimensions.</param>
    /// <returns>The tensors (<see cref="LmHead"/> only when the embeddings are not tied).</returns>
    public static IReadOnlyList<LlamaTensor> All(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        int h = config.HiddenSize, q = config.NumHeads * config.HeadDim, kv = config.NumKvHeads * config.HeadDim, m = config.IntermediateSize;
        var list = new List<LlamaTensor>((9 * config.NumLayers) + 3) { new(Embedding, [config.VocabSize, h]) };
        for (var i = 0; i < config.NumLayers; i++)
        {
            list.Add(new(InputNorm(i), [h]));
            list.Add(new(QProj(i), [q, h]));
            list.Add(new(KProj(i), [kv, h]));
            list.Add(new(VProj(i), [kv, h]));
            list.Add(new(OProj(i), [h, q]));
            list.Add(new(PostAttentionNorm(i), [h]));
            list.Add(new(GateProj(i), [m, h]));
            list.Add(new(UpProj(i), [m, h]));
            list.Add(new(DownProj(i), [h, m]));
        }

        list.Add(new(FinalNorm, [h]));
        if (!config.TieWordEmbeddings)
        {
            list.Add(new(LmHead, [config.VocabSize, h]));
        }

        return list;
    }

    /// <summary>Finds the tensor a name denotes for <paramref name="config"/>; <see cref="LmHead"/> of a tied model is the embedding.</summary>
    /// <param name="config">The model's dimensions.</param>
    /// <param name="name">The Hugging Face tensor name.</param>
    /// <returns>The tensor.</returns>
    /// <exception cref="ArgumentException">The name is not a tensor of this config.</exception>
    public static LlamaTensor Find(LlamaConfig config, string name)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (name == LmHead && config.TieWordEmbeddings)
        {
            return new LlamaTensor(LmHead, [config.VocabSize, config.HiddenSize]);
        }

        return All(config).FirstOrDefault(t => t.Name == name)
            ?? throw new ArgumentException($"'{name}' is not a weight tensor of this Llama config ({config.NumLayers} layers).", nameof(name));
    }

    private static string Layer(int layer, string suffix) =>
        string.Create(CultureInfo.InvariantCulture, $"model.layers.{layer}.{suffix}");
}
