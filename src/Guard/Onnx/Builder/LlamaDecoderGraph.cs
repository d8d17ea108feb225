using System.Globalization;
using Guard.Onnx.Models;

namespace Guard.Onnx.Builder;

/// <summary>
/// Composes a Llama decoder from ai.onnx ops with the Optimum / onnxruntime-genai signature.
/// </summary>
/// <remarks>
/// <para>Layout: linear weights are stored transposed (<c>[in, out]</c>) for MatMul; the query projection is pre-scaled by
/// <c>1/sqrt(head_dim)</c> (RoPE is linear, so this equals scaling the scores and costs nothing at run time).</para>
/// <para>Mask: built once from <c>attention_mask</c>: key <c>j</c> is visible to query <c>i</c> (absolute index
/// <c>past + i</c>) when <c>j &lt;= past + i</c> and <c>attention_mask[b, j] != 0</c>; hidden keys get float.MinValue,
/// so fully masked (padding) rows stay finite.</para>
/// <para>RoPE: cos/sin tables <c>[max_positions, head_dim]</c> are initializers gathered by <c>position_ids</c>;
/// rotate_half is Slice/Neg/Concat.</para>
/// <para>GQA: queries are viewed as <c>[batch, kv_heads, heads/kv_heads, seq, head_dim]</c> and multiplied with keys and
/// values of shape <c>[batch, kv_heads, 1, total, head_dim]</c>; MatMul broadcasting repeats each KV head for its query
/// group without materializing copies (query head <c>h</c> uses KV head <c>h / group</c>, as Hugging Face's repeat_kv).</para>
/// <para>Float16: weights, activations, KV cache and logits are float16; RMSNorm statistics and the masked softmax run in
/// float32 (Cast), as Hugging Face does.</para>
/// </remarks>
internal sealed partial class LlamaDecoderGraph
{
    public const string InputIds = "input_ids";
    public const string AttentionMask = "attention_mask";
    public const string PositionIds = "position_ids";
    public const string Logits = "logits";
    public const string Batch = "batch_size";
    public const string Sequence = "sequence_length";
    public const string Past = "past_sequence_length";
    public const string Total = "total_sequence_length";
    public const string Prefix = "prefix_sequence_length";

    private readonly OnnxGraphBuilder _g;
    private readonly ILlamaWeights _weights;
    private readonly LlamaConfig _c;
    private readonly WeightWriter _writer;
    private readonly OnnxDataType _type;
    private readonly bool _float16;
    private readonly bool _sharedPrefix;

    private LlamaDecoderGraph(OnnxGraphBuilder graph, ILlamaWeights weights, WeightWriter writer, OnnxDataType type, bool sharedPrefix = false)
    {
        _sharedPrefix = sharedPrefix;
        _g = graph;
        _weights = weights;
        _c = weights.Config;
        _writer = writer;
        _type = type;
        _float16 = type == OnnxDataType.Float16;
    }

    public static string PastKey(int layer) => string.Create(CultureInfo.InvariantCulture, $"past_key_values.{layer}.key");

    public static string PastValue(int layer) => string.Create(CultureInfo.InvariantCulture, $"past_key_values.{layer}.value");

    public static string PrefixKey(int layer) => string.Create(CultureInfo.InvariantCulture, $"prefix_key_values.{layer}.key");

    public static string PrefixValue(int layer) => string.Create(CultureInfo.InvariantCulture, $"prefix_key_values.{layer}.value");

    public static string PresentKey(int layer) => string.Create(CultureInfo.InvariantCulture, $"present.{layer}.key");

    public static string PresentValue(int layer) => string.Create(CultureInfo.InvariantCulture, $"present.{layer}.value");

    /// <summary>Builds the graph; weights go through <paramref name="writer"/> in checkpoint order.</summary>
    public static OnnxGraphProto Build(ILlamaWeights weights, WeightWriter writer, OnnxDataType type, bool lastTokenLogitsOnly, bool sharedPrefix = false)
    {
        var graph = new OnnxGraphBuilder("llama_decoder");
        new LlamaDecoderGraph(graph, weights, writer, type, sharedPrefix).Compose(lastTokenLogitsOnly);
        return graph.Graph;
    }

    private void Compose(bool lastTokenLogitsOnly)
    {
        DeclareSignature(lastTokenLogitsOnly);

        _g.Scope = "/model/embed_tokens";
        var hidden = _g.Gather(Weight(LlamaTensorNames.Embedding), InputIds);

        _g.Scope = "/model/mask";
        var mask = AttentionBias();

        _g.Scope = "/model/rotary_emb";
        var (cos, sin) = RotaryTables();

        for (var layer = 0; layer < _c.NumLayers; layer++)
        {
            _g.Scope = string.Create(CultureInfo.InvariantCulture, $"/model/layers.{layer}");
            var normed = RmsNorm(hidden, Weight(LlamaTensorNames.InputNorm(layer)));
            hidden = _g.Add(hidden, Attention(layer, normed, mask, cos, sin));
            normed = RmsNorm(hidden, Weight(LlamaTensorNames.PostAttentionNorm(layer)));
            hidden = _g.Add(hidden, Mlp(layer, normed));
        }

        _g.Scope = "/model/norm";
        if (lastTokenLogitsOnly)
        {
            hidden = _g.Slice(hidden, -1, long.MaxValue, 1);
        }

        hidden = RmsNorm(hidden, Weight(LlamaTensorNames.FinalNorm));

        _g.Scope = "/lm_head";
        var head = _c.TieWordEmbeddings ? LlamaTensorNames.Embedding : LlamaTensorNames.LmHead;
        _g.Node("MatMul", [hidden, Linear(LlamaTensorNames.LmHead, head)], Logits);
    }

    private void DeclareSignature(bool lastTokenLogitsOnly)
    {
        _g.Input(InputIds, OnnxDataType.Int64, Batch, Sequence);
        _g.Input(AttentionMask, OnnxDataType.Int64, Batch, Total);
        _g.Input(PositionIds, OnnxDataType.Int64, Batch, Sequence);
        long kv = _c.NumKvHeads, dim = _c.HeadDim;
        for (var i = 0; i < _c.NumLayers; i++)
        {
            _g.Input(PastKey(i), _type, Batch, kv, Past, dim);
            _g.Input(PastValue(i), _type, Batch, kv, Past, dim);
        }

        if (_sharedPrefix)
        {
            for (var i = 0; i < _c.NumLayers; i++)
            {
                _g.Input(PrefixKey(i), _type, 1L, kv, Prefix, dim);
                _g.Input(PrefixValue(i), _type, 1L, kv, Prefix, dim);
            }
        }

        _g.Output(Logits, _type, Batch, lastTokenLogitsOnly ? 1L : Sequence, (long)_c.VocabSize);
        for (var i = 0; i < _c.NumLayers; i++)
        {
            _g.Output(PresentKey(i), _type, Batch, kv, Total, dim);
            _g.Output(PresentValue(i), _type, Batch, kv, Total, dim);
        }
    }

    /// <summary>The additive float32 mask <c>[batch, 1, 1, seq, total]</c>: 0 where visible, float.MinValue elsewhere.</summary>
    private string AttentionBias()
    {
        var seq = _g.Gather(_g.Node("Shape", [InputIds]), _g.Int64Scalar(1));
        var total = _g.Gather(_g.Node("Shape", [AttentionMask]), _g.Int64Scalar(1));
        var past = _g.Sub(total, seq);
        var one = _g.Int64Scalar(1);
        var queries = _g.Unsqueeze(_g.Node("Range", [past, total, one]), 1);
        var keys = _g.Unsqueeze(_g.Node("Range", [_g.Int64Scalar(0), total, one]), 0);
        var causal = _g.Node("LessOrEqual", [keys, queries]);
        var present = _g.Unsqueeze(_g.Cast(AttentionMask, OnnxDataType.Bool), 1, 2, 3);
        var visible = _g.Node("And", [causal, present]);
        return _g.Node("Where", [visible, _g.FloatScalar(0, OnnxDataType.Float), _g.FloatScalar(float.MinValue, OnnxDataType.Float)]);
    }

    /// <summary>cos and sin rows for each position: <c>[batch, seq, 1, head_dim]</c>.</summary>
    private (string Cos, string Sin) RotaryTables()
    {
        long[] dims = [_c.MaxPositions, _c.HeadDim];
        float[]? sinTable = null;
        var cosTable = _writer.Add("model.rotary_emb.cos_cached", dims, () =>
        {
            var (c, s) = LlamaRope.Tables(_c);
            sinTable = s;
            return c;
        });
        var sinInit = _writer.Add("model.rotary_emb.sin_cached", dims, () => sinTable ?? LlamaRope.Tables(_c).Sin);
        _g.Initializer(cosTable);
        _g.Initializer(sinInit);
        var cos = _g.Unsqueeze(_g.Gather(cosTable.Name, PositionIds), 2);
        var sin = _g.Unsqueeze(_g.Gather(sinInit.Name, PositionIds), 2);
        return (cos, sin);
    }

    private string Attention(int layer, string x, string mask, string cos, string sin)
    {
        long heads = _c.NumHeads, kvHeads = _c.NumKvHeads, dim = _c.HeadDim, group = heads / kvHeads;
        var scale = (float)(1.0 / Math.Sqrt(_c.HeadDim));
        _g.Scope = string.Create(CultureInfo.InvariantCulture, $"/model/layers.{layer}/self_attn");

        var q = _g.MatMul(x, Linear(LlamaTensorNames.QProj(layer), scale: scale));
        var k = _g.MatMul(x, Linear(LlamaTensorNames.KProj(layer)));
        var v = _g.MatMul(x, Linear(LlamaTensorNames.VProj(layer)));

        // [b, s, heads, d] -> rope -> [b, s, kv, group, d] -> [b, kv, group, s, d]
        q = Rotate(_g.Reshape(q, 0, 0, heads, dim), cos, sin);
        q = _g.Transpose(_g.Reshape(q, 0, 0, kvHeads, group, dim), 0, 2, 3, 1, 4);

        // [b, s, kv, d] -> rope -> [b, kv, s, d] -> concat past -> [b, kv, total, d]
        k = _g.Transpose(Rotate(_g.Reshape(k, 0, 0, kvHeads, dim), cos, sin), 0, 2, 1, 3);
        v = _g.Transpose(_g.Reshape(v, 0, 0, kvHeads, dim), 0, 2, 1, 3);
        var presentK = _g.Concat(2, PastKey(layer), k, PresentKey(layer));
        var presentV = _g.Concat(2, PastValue(layer), v, PresentValue(layer));

        // scores [b, kv, group, s, total] = q [b, kv, group, s, d] x kT [b, kv, 1, d, total]; a Transpose of the last
        // two axes right before MatMul is what ONNX Runtime folds into FusedMatMul (transB).
        var keysT = _g.Transpose(_g.Unsqueeze(presentK, 2), 0, 1, 2, 4, 3);
        var scores = _g.MatMul(q, keysT);
        string? prefixLength = null;
        if (_sharedPrefix)
        {
            // The shared prefix's keys [1, kv, 1, d, prefix] broadcast over the batch: its scores come first, as its
            // positions do in the mask.
            var prefixKeysT = _g.Transpose(_g.Unsqueeze(PrefixKey(layer), 2), 0, 1, 2, 4, 3);
            scores = _g.Concat(-1, _g.MatMul(q, prefixKeysT), scores);
            prefixLength = _g.Node("Shape", [PrefixKey(layer)], null, OnnxAttributeProto.Int("start", 2), OnnxAttributeProto.Int("end", 3));
        }
        if (_float16)
        {
            scores = _g.Cast(scores, OnnxDataType.Float);
        }

        var probs = _g.Softmax(_g.Add(scores, mask), -1);
        if (_float16)
        {
            probs = _g.Cast(probs, OnnxDataType.Float16);
        }

        // [b, kv, group, s, d] -> [b, s, kv, group, d] -> [b, s, heads * d]
        string context;
        if (prefixLength is null)
        {
            context = _g.MatMul(probs, _g.Unsqueeze(presentV, 2));
        }
        else
        {
            var axis = _g.Int64s(-1);
            var prefixProbs = _g.Node("Slice", [probs, _g.Int64s(0), prefixLength, axis]);
            var ownProbs = _g.Node("Slice", [probs, prefixLength, _g.Int64s(long.MaxValue), axis]);
            context = _g.Add(_g.MatMul(prefixProbs, _g.Unsqueeze(PrefixValue(layer), 2)), _g.MatMul(ownProbs, _g.Unsqueeze(presentV, 2)));
        }

        context = _g.Reshape(_g.Transpose(context, 0, 3, 1, 2, 4), 0, 0, heads * dim);
        return _g.MatMul(context, Linear(LlamaTensorNames.OProj(layer)));
    }

    /// <summary>Hugging Face's <c>x * cos + rotate_half(x) * sin</c>, with <c>rotate_half(x) = [-x2, x1]</c>.</summary>
    private string Rotate(string x, string cos, string sin)
    {
        long half = _c.HeadDim / 2;
        var x1 = _g.Slice(x, 0, half, -1);
        var x2 = _g.Slice(x, half, long.MaxValue, -1);
        var rotated = _g.Concat(-1, _g.Neg(x2), x1);
        return _g.Add(_g.Mul(x, cos), _g.Mul(rotated, sin));
    }

    private string Mlp(int layer, string x)
    {
        _g.Scope = string.Create(CultureInfo.InvariantCulture, $"/model/layers.{layer}/mlp");
        var gate = _g.MatMul(x, Linear(LlamaTensorNames.GateProj(layer)));
        var up = _g.MatMul(x, Linear(LlamaTensorNames.UpProj(layer)));
        var activated = _g.Mul(_g.Mul(gate, _g.Sigmoid(gate)), up);
        return _g.MatMul(activated, Linear(LlamaTensorNames.DownProj(layer)));
    }

    /// <summary>Hugging Face's LlamaRMSNorm: statistics in float32, the weight applied in the model's type.</summary>
    private string RmsNorm(string x, string weight)
    {
        var input = _float16 ? _g.Cast(x, OnnxDataType.Float) : x;
        var meanSquare = _g.ReduceMean(_g.Pow(input, _g.FloatScalar(2, OnnxDataType.Float)), -1);
        var rms = _g.Sqrt(_g.Add(meanSquare, _g.FloatScalar((float)_c.RmsNormEps, OnnxDataType.Float)));
        var normalized = _g.Div(input, rms);
        if (_float16)
        {
            normalized = _g.Cast(normalized, OnnxDataType.Float16);
        }

        return _g.Mul(normalized, weight);
    }

    /// <summary>Adds a tensor as stored in the checkpoint and returns its initializer name.</summary>
    private string Weight(string name)
    {
        var tensor = LlamaTensorNames.Find(_c, name);
        long[] dims = [.. tensor.Shape];
        return _g.Initializer(_writer.Add(name, dims, () => Load(tensor, name)));
    }

    /// <summary>Adds a linear weight <c>[out, in]</c> (read from <paramref name="source"/>) transposed to <c>[in, out]</c>.</summary>
    private string Linear(string name, string? source = null, float scale = 1)
    {
        var tensor = LlamaTensorNames.Find(_c, source ?? name);
        int rows = tensor.Shape[0], cols = tensor.Shape[1];
        return _g.Initializer(_writer.Add(name, [cols, rows], () => WeightEncoder.Transpose(Load(tensor, source ?? name), rows, cols, scale)));
    }

    private float[] Load(LlamaTensor tensor, string name)
    {
        var values = _weights.Get(name);
        return values.LongLength == tensor.ElementCount
            ? values
            : throw new InvalidDataException(
                $"Weight '{name}' has {values.LongLength} values, but the config gives it shape {tensor.ShapeText} ({tensor.ElementCount} values).");
    }
}
