using Guard.Onnx.Models;

namespace Guard.Onnx.Builder;

/// <summary>Rotary position embedding tables, computed in double precision as Hugging Face's Llama does (including <c>linear</c> and <c>llama3</c> scaling).</summary>
internal static class LlamaRope
{
    /// <summary>The <c>head_dim / 2</c> inverse frequencies <c>theta^(-2i/d)</c>, after scaling.</summary>
    public static double[] InverseFrequencies(LlamaConfig config)
    {
        var dim = config.HeadDim;
        var inv = new double[dim / 2];
        for (var i = 0; i < inv.Length; i++)
        {
            inv[i] = 1.0 / Math.Pow(config.RopeTheta, 2.0 * i / dim);
        }

        var scaling = config.RopeScaling;
        switch (scaling?.Kind)
        {
            case null or "default":
                break;
            case "linear":
                for (var i = 0; i < inv.Length; i++)
                {
                    inv[i] /= scaling.Factor;
                }

                break;
            case "llama3":
                ApplyLlama3(inv, scaling);
                break;
            default:
                throw new NotSupportedException($"rope_scaling type \"{scaling.Kind}\" is not supported.");
        }

        return inv;
    }

    /// <summary>The <c>[max_positions, head_dim]</c> cos and sin tables; columns <c>i</c> and <c>i + head_dim/2</c> share a frequency (rotate_half layout).</summary>
    public static (float[] Cos, float[] Sin) Tables(LlamaConfig config)
    {
        var inv = InverseFrequencies(config);
        var dim = config.HeadDim;
        var half = dim / 2;
        var cos = new float[(long)config.MaxPositions * dim];
        var sin = new float[cos.LongLength];
        Parallel.For(0, config.MaxPositions, p =>
        {
            var row = (long)p * dim;
            for (var i = 0; i < half; i++)
            {
                var angle = p * inv[i];
                var c = (float)Math.Cos(angle);
                var s = (float)Math.Sin(angle);
                cos[row + i] = c;
                cos[row + half + i] = c;
                sin[row + i] = s;
                sin[row + half + i] = s;
            }
        });
        return (cos, sin);
    }

    private static void ApplyLlama3(double[] inv, LlamaRopeScaling scaling)
    {
        var factor = scaling.Factor;
        var low = scaling.LowFreqFactor!.Value;
        var high = scaling.HighFreqFactor!.Value;
        double original = scaling.OriginalMaxPositions!.Value;
        var lowFreqWavelength = original / low;
        var highFreqWavelength = original / high;
        for (var i = 0; i < inv.Length; i++)
        {
            var wavelength = 2 * Math.PI / inv[i];
            if (wavelength < highFreqWavelength)
            {
                continue;
            }

            if (wavelength > lowFreqWavelength)
            {
                inv[i] /= factor;
                continue;
            }

            var smooth = ((original / wavelength) - low) / (high - low);
            inv[i] = ((1 - smooth) * inv[i] / factor) + (smooth * inv[i]);
        }
    }
}
