using Guard.Onnx.Builder;
using Guard.Onnx.Models;

namespace Guard.Tests.Onnx.Reference;

/// <summary>
/// An independent Llama forward pass: naive loops in double precision on the Hugging Face weights ([out, in] linear
/// layers), one token at a time with its own KV cache, written from the Hugging Face modeling code's semantics
/// (RMSNorm, rotate_half RoPE with default / linear / llama3 scaling, grouped-query attention, SiLU MLP).
/// It shares nothing with the graph builder but the weight source and the config.
/// </summary>
public sealed class LlamaReference
{
    private readonly LlamaConfig _c;
    private readonly double[] _embedding;
    private readonly double[] _finalNorm;
    private readonly double[] _lmHead;
    private readonly Layer[] _layers;
    private readonly double[] _invFreq;

    public LlamaReference(ILlamaWeights weights)
    {
        _c = weights.Config;
        _embedding = Load(weights, "model.embed_tokens.weight");
        _finalNorm = Load(weights, "model.norm.weight");
        _lmHead = _c.TieWordEmbeddings ? _embedding : Load(weights, "lm_head.weight");
        _layers = new Layer[_c.NumLayers];
        for (var i = 0; i < _c.NumLayers; i++)
        {
            string P(string s) => $"model.layers.{i}.{s}";
            _layers[i] = new Layer(
                Load(weights, P("input_layernorm.weight")),
                Load(weights, P("self_attn.q_proj.weight")),
                Load(weights, P("self_attn.k_proj.weight")),
                Load(weights, P("self_attn.v_proj.weight")),
                Load(weights, P("self_attn.o_proj.weight")),
                Load(weights, P("post_attention_layernorm.weight")),
                Load(weights, P("mlp.gate_proj.weight")),
                Load(weights, P("mlp.up_proj.weight")),
                Load(weights, P("mlp.down_proj.weight")));
        }

        _invFreq = InverseFrequencies(_c);
    }

    public LlamaConfig Config => _c;

    public Cache NewCache() => new(_c.NumLayers);

    /// <summary>Runs the tokens after those already in <paramref name="cache"/>, at the given positions; returns one logits row per token.</summary>
    public double[][] Forward(Cache cache, IReadOnlyList<long> tokens, IReadOnlyList<long> positions)
    {
        var result = new double[tokens.Count][];
        for (var t = 0; t < tokens.Count; t++)
        {
            result[t] = Step(cache, (int)tokens[t], positions[t]);
        }

        return result;
    }

    /// <summary>A whole prompt from an empty cache at positions 0..n-1.</summary>
    public double[][] Forward(IReadOnlyList<long> tokens) =>
        Forward(NewCache(), tokens, [.. Enumerable.Range(0, tokens.Count).Select(i => (long)i)]);

    private double[] Step(Cache cache, int token, long position)
    {
        int h = _c.HiddenSize, d = _c.HeadDim, heads = _c.NumHeads, kvHeads = _c.NumKvHeads, group = heads / kvHeads;
        var x = new double[h];
        Array.Copy(_embedding, (long)token * h, x, 0, h);
        for (var l = 0; l < _layers.Length; l++)
        {
            var layer = _layers[l];
            var normed = RmsNorm(x, layer.InputNorm);
            var q = Linear(layer.Q, normed, heads * d);
            var k = Linear(layer.K, normed, kvHeads * d);
            var v = Linear(layer.V, normed, kvHeads * d);
            for (var hh = 0; hh < heads; hh++)
            {
                Rope(q, hh * d, position);
            }

            for (var kh = 0; kh < kvHeads; kh++)
            {
                Rope(k, kh * d, position);
            }

            cache.Keys[l].Add(k);
            cache.Values[l].Add(v);
            var total = cache.Keys[l].Count;
            var context = new double[heads * d];
            var scores = new double[total];
            for (var hh = 0; hh < heads; hh++)
            {
                var kh = hh / group;
                var max = double.NegativeInfinity;
                for (var j = 0; j < total; j++)
                {
                    var dot = 0.0;
                    var key = cache.Keys[l][j];
                    for (var e = 0; e < d; e++)
                    {
                        dot += q[(hh * d) + e] * key[(kh * d) + e];
                    }

                    scores[j] = dot / Math.Sqrt(d);
                    max = Math.Max(max, scores[j]);
                }

                var sum = 0.0;
                for (var j = 0; j < total; j++)
                {
                    scores[j] = Math.Exp(scores[j] - max);
                    sum += scores[j];
                }

                for (var j = 0; j < total; j++)
                {
                    var value = cache.Values[l][j];
                    for (var e = 0; e < d; e++)
                    {
                        context[(hh * d) + e] += scores[j] / sum * value[(kh * d) + e];
                    }
                }
            }

            Accumulate(x, Linear(layer.O, context, h));
            normed = RmsNorm(x, layer.PostNorm);
            var gate = Linear(layer.Gate, normed, _c.IntermediateSize);
            var up = Linear(layer.Up, normed, _c.IntermediateSize);
            for (var i = 0; i < gate.Length; i++)
            {
                gate[i] = gate[i] / (1 + Math.Exp(-gate[i])) * up[i];
            }

            Accumulate(x, Linear(layer.Down, gate, h));
        }

        return Linear(_lmHead, RmsNorm(x, _finalNorm), _c.VocabSize);
    }

    private double[] RmsNorm(double[] x, double[] weight)
    {
        var meanSquare = x.Sum(v => v * v) / x.Length;
        var inv = 1 / Math.Sqrt(meanSquare + _c.RmsNormEps);
        return [.. x.Select((v, i) => v * inv * weight[i])];
    }

    /// <summary>y = W x for a row-major [rows, x.Length] matrix.</summary>
    private static double[] Linear(double[] w, double[] x, int rows)
    {
        var y = new double[rows];
        for (var r = 0; r < rows; r++)
        {
            var sum = 0.0;
            var offset = (long)r * x.Length;
            for (var i = 0; i < x.Length; i++)
            {
                sum += w[offset + i] * x[i];
            }

            y[r] = sum;
        }

        return y;
    }

    /// <summary>x * cos + rotate_half(x) * sin on one head, with rotate_half(x) = [-x2, x1].</summary>
    private void Rope(double[] x, int offset, long position)
    {
        var half = _c.HeadDim / 2;
        for (var i = 0; i < half; i++)
        {
            var angle = position * _invFreq[i];
            double cos = Math.Cos(angle), sin = Math.Sin(angle);
            double x1 = x[offset + i], x2 = x[offset + half + i];
            x[offset + i] = (x1 * cos) - (x2 * sin);
            x[offset + half + i] = (x2 * cos) + (x1 * sin);
        }
    }

    private static double[] InverseFrequencies(LlamaConfig c)
    {
        var d = c.HeadDim;
        var inv = Enumerable.Range(0, d / 2).Select(i => Math.Pow(c.RopeTheta, -2.0 * i / d)).ToArray();
        var s = c.RopeScaling;
        if (s is null || s.Kind == "default")
        {
            return inv;
        }

        if (s.Kind == "linear")
        {
            return [.. inv.Select(f => f / s.Factor)];
        }

        // transformers' _compute_llama3_parameters
        double low = s.LowFreqFactor!.Value, high = s.HighFreqFactor!.Value, old = s.OriginalMaxPositions!.Value;
        return [.. inv.Select(f =>
        {
            var wavelength = 2 * Math.PI / f;
            var scaled = wavelength > old / low ? f / s.Factor : f;
            var smooth = ((old / wavelength) - low) / (high - low);
            var smoothed = ((1 - smooth) * scaled / s.Factor) + (smooth * scaled);
            var medium = !(wavelength < old / high) && !(wavelength > old / low);
            return medium ? smoothed : scaled;
        })];
    }

    private static void Accumulate(double[] x, double[] delta)
    {
        for (var i = 0; i < x.Length; i++)
        {
            x[i] += delta[i];
        }
    }

    private static double[] Load(ILlamaWeights weights, string name) => [.. weights.Get(name).Select(v => (double)v)];

    public sealed class Cache
    {
        public Cache(int layers)
        {
            Keys = [.. Enumerable.Range(0, layers).Select(_ => new List<double[]>())];
            Values = [.. Enumerable.Range(0, layers).Select(_ => new List<double[]>())];
        }

        public List<double[]>[] Keys { get; }

        public List<double[]>[] Values { get; }

        public int Length => Keys.Length == 0 ? 0 : Keys[0].Count;
    }

    private sealed record Layer(double[] InputNorm, double[] Q, double[] K, double[] V, double[] O, double[] PostNorm, double[] Gate, double[] Up, double[] Down);
}
