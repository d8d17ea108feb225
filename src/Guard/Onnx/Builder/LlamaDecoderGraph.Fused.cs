using System.Globalization;

namespace Guard.Onnx.Builder;

/// <summary>
/// The fused decoder: the same signature and arithmetic, with attention, rotary embedding and RMSNorm as ONNX Runtime's
/// contrib operators (the kernels its CUDA path is tuned for).
/// </summary>
/// <remarks>
/// <para>Per layer: <c>SkipSimplifiedLayerNormalization</c> (com.microsoft) adds the residual and normalizes in one node
/// (its fourth output is the sum, the next residual); the first norm is <c>SimplifiedLayerNormalization</c> (registered by
/// ONNX Runtime in the ai.onnx domain, version 1). The query and key projections go through <c>RotaryEmbedding</c>
/// (com.microsoft) with the graph's <c>position_ids</c> and half-width cos/sin tables <c>[max_positions, head_dim/2]</c>,
/// so positions are exactly the engine's; attention is <c>GroupQueryAttention</c> (com.microsoft), which appends the new
/// keys and values to the past and returns the presents in the signature's <c>[batch, kv_heads, total, head_dim]</c>
/// layout.</para>
/// <para>GroupQueryAttention takes no mask: it reads <c>seqlens_k</c> (int32 <c>[batch]</c>, valid keys per row minus
/// one) and <c>total_sequence_length</c> (int32 scalar), both computed here from <c>attention_mask</c>. It treats a row's
/// valid keys as contiguous from the start, and a pass of more than one token after a past only with batch 1: the engine
/// runs such graphs unbatched, with contiguous stream caches (docs/adr/013-fused-graph.md).</para>
/// </remarks>
internal sealed partial class LlamaDecoderGraph
{
    /// <summary>Builds the fused graph; weights go through <paramref name="writer"/> in checkpoint order.</summary>
    public static OnnxGraphProto BuildFused(ILlamaWeights weights, WeightWriter writer, OnnxDataType type, bool lastTokenLogitsOnly)
    {
        var graph = new OnnxGraphBuilder("llama_decoder_fused");
        new LlamaDecoderGraph(graph, weights, writer, type).ComposeFused(lastTokenLogitsOnly);
        return graph.Graph;
    }

    private void ComposeFused(bool lastTokenLogitsOnly)
    {
        DeclareSignature(lastTokenLogitsOnly);

        _g.Scope = "/model/embed_tokens";
        var hidden = _g.Gather(Weight(LlamaTensorNames.Embedding), InputIds);

        _g.Scope = "/model/attn_mask_reformat";
        var (seqlensK, totalLength) = AttentionLengths();

        _g.Scope = "/model/rotary_emb";
        var (cos, sin) = HalfRotaryTables();

        _g.Scope = "/model/layers.0/input_layernorm";
        var normed = SimplifiedNorm(hidden, Weight(LlamaTensorNames.InputNorm(0)));
        for (var layer = 0; layer < _c.NumLayers; layer++)
        {
            var attention = FusedAttention(layer, normed, seqlensK, totalLength, cos, sin);
            _g.Scope = string.Create(CultureInfo.InvariantCulture, $"/model/layers.{layer}/post_attention_layernorm");
            (normed, hidden) = SkipNorm(hidden, attention, Weight(LlamaTensorNames.PostAttentionNorm(layer)));
            var mlp = Mlp(layer, normed);
            if (layer + 1 < _c.NumLayers)
            {
                _g.Scope = string.Create(CultureInfo.InvariantCulture, $"/model/layers.{layer + 1}/input_layernorm");
                (normed, hidden) = SkipNorm(hidden, mlp, Weight(LlamaTensorNames.InputNorm(layer + 1)));
                continue;
            }

            _g.Scope = "/model/norm";
            if (lastTokenLogitsOnly)
            {
                // Only the last position is normalized: the residual sum is sliced first.
                hidden = _g.Slice(_g.Add(hidden, mlp), -1, long.MaxValue, 1);
                normed = SimplifiedNorm(hidden, Weight(LlamaTensorNames.FinalNorm));
            }
            else
            {
                (normed, _) = SkipNorm(hidden, mlp, Weight(LlamaTensorNames.FinalNorm), keepSum: false);
            }
        }

        _g.Scope = "/lm_head";
        var head = _c.TieWordEmbeddings ? LlamaTensorNames.Embedding : LlamaTensorNames.LmHead;
        _g.Node("MatMul", [normed, Linear(LlamaTensorNames.LmHead, head)], Logits);
    }

    /// <summary>GroupQueryAttention's lengths from <c>attention_mask</c>: <c>seqlens_k</c> = valid keys per row minus one
    /// (int32 <c>[batch]</c>) and <c>total_sequence_length</c> = the mask's width (int32 scalar).</summary>
    private (string SeqlensK, string Total) AttentionLengths()
    {
        var valid = _g.Node("ReduceSum", [AttentionMask, _g.Int64s(1)], null, OnnxAttributeProto.Int("keepdims", 0));
        var seqlensK = _g.Cast(_g.Sub(valid, _g.Int64Scalar(1)), OnnxDataType.Int32);
        var total = _g.Cast(_g.Gather(_g.Node("Shape", [AttentionMask]), _g.Int64Scalar(1)), OnnxDataType.Int32);
        return (seqlensK, total);
    }

    /// <summary>RotaryEmbedding's cos and sin caches <c>[max_positions, head_dim / 2]</c>: one column per frequency (the
    /// standard graph's tables repeat each frequency in both halves).</summary>
    private (string Cos, string Sin) HalfRotaryTables()
    {
        long[] dims = [_c.MaxPositions, _c.HeadDim / 2];
        float[]? sinTable = null;
        var cosTable = _writer.Add("model.rotary_emb.cos_cache", dims, () =>
        {
            var (c, s) = LlamaRope.Tables(_c);
            sinTable = LeftHalf(s);
            return LeftHalf(c);
        });
        var sinInit = _writer.Add("model.rotary_emb.sin_cache", dims, () => sinTable ?? LeftHalf(LlamaRope.Tables(_c).Sin));
        return (_g.Initializer(cosTable), _g.Initializer(sinInit));
    }

    private float[] LeftHalf(float[] table)
    {
        int dim = _c.HeadDim, half = dim / 2;
        var result = new float[(long)_c.MaxPositions * half];
        for (var p = 0; p < _c.MaxPositions; p++)
        {
            Array.Copy(table, (long)p * dim, result, (long)p * half, half);
        }

        return result;
    }

    private string FusedAttention(int layer, string x, string seqlensK, string totalLength, string cos, string sin)
    {
        _g.Scope = string.Create(CultureInfo.InvariantCulture, $"/model/layers.{layer}/self_attn");
        var q = Rotary(_g.MatMul(x, Linear(LlamaTensorNames.QProj(layer))), cos, sin, _c.NumHeads);
        var k = Rotary(_g.MatMul(x, Linear(LlamaTensorNames.KProj(layer))), cos, sin, _c.NumKvHeads);
        var v = _g.MatMul(x, Linear(LlamaTensorNames.VProj(layer)));
        var outputs = _g.Node(
            "GroupQueryAttention",
            OnnxGraphBuilder.ContribDomain,
            [q, k, v, PastKey(layer), PastValue(layer), seqlensK, totalLength],
            [null, PresentKey(layer), PresentValue(layer)],
            OnnxAttributeProto.Int("num_heads", _c.NumHeads),
            OnnxAttributeProto.Int("kv_num_heads", _c.NumKvHeads),
            OnnxAttributeProto.Float("scale", (float)(1.0 / Math.Sqrt(_c.HeadDim))));
        return _g.MatMul(outputs[0], Linear(LlamaTensorNames.OProj(layer)));
    }

    /// <summary>RotaryEmbedding (rotate_half layout) of <c>[batch, seq, heads * head_dim]</c> at <c>position_ids</c>.</summary>
    private string Rotary(string x, string cos, string sin, int heads) =>
        _g.Node(
            "RotaryEmbedding",
            OnnxGraphBuilder.ContribDomain,
            [x, PositionIds, cos, sin],
            [null],
            OnnxAttributeProto.Int("interleaved", 0),
            OnnxAttributeProto.Int("num_heads", heads))[0];

    /// <summary>RMSNorm as one node (statistics in float32: <c>stash_type</c> 1).</summary>
    private string SimplifiedNorm(string x, string weight) =>
        _g.Node(
            "SimplifiedLayerNormalization",
            string.Empty,
            [x, weight],
            [null],
            OnnxAttributeProto.Int("axis", -1),
            OnnxAttributeProto.Float("epsilon", (float)_c.RmsNormEps),
            OnnxAttributeProto.Int("stash_type", 1))[0];

    /// <summary>RMSNorm of <c>x + skip</c> as one node; returns the normalized value and (with <paramref name="keepSum"/>)
    /// the sum, the next residual.</summary>
    private (string Normed, string Sum) SkipNorm(string x, string skip, string weight, bool keepSum = true)
    {
        var outputs = _g.Node(
            "SkipSimplifiedLayerNormalization",
            OnnxGraphBuilder.ContribDomain,
            [x, skip, weight],
            keepSum ? [null, string.Empty, string.Empty, null] : [null],
            OnnxAttributeProto.Float("epsilon", (float)_c.RmsNormEps));
        return (outputs[0], keepSum ? outputs[3] : string.Empty);
    }
}
