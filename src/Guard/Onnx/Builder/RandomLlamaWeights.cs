using System.Globalization;
using System.Text;
using Guard.Onnx.Models;

namespace Guard.Onnx.Builder;

/// <summary>
/// Seeded random weights of any Llama shape, generated per tensor on request so that a 7B-shaped model streams through
/// the builder without being held in memory.
/// </summary>
/// <remarks>
/// Deterministic across machines and thread counts: element <c>i</c> of tensor <c>name</c> is the SplitMix64 output
/// <c>mix(s + (i + 1) * 0x9E3779B97F4A7C15)</c> with <c>s = mix(seed * 0x9E3779B97F4A7C15 ^ FNV-1a-64(name))</c>;
/// its top 24 bits give <c>u</c> in [0, 1). Linear and embedding weights are <c>(2u - 1) * scale * sqrt(3)</c>
/// (uniform, standard deviation <c>scale</c>); norm weights are <c>1 + (2u - 1) / 2</c>.
/// </remarks>
public sealed class RandomLlamaWeights : ILlamaWeights
{
    private const int BlockSize = 1 << 16;
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>Creates the weights.</summary>
    /// <param name="config">The shape.</param>
    /// <param name="seed">The seed.</param>
    /// <param name="scale">The standard deviation of linear and embedding weights (0.02 is Hugging Face's initializer range).</param>
    public RandomLlamaWeights(LlamaConfig config, int seed, float scale = 0.02f)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = LlamaConfigValidator.Validate(config);
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid Llama config: " + string.Join("; ", errors), nameof(config));
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(scale);
        Config = config;
        Seed = seed;
        Scale = scale;
    }

    /// <inheritdoc/>
    public LlamaConfig Config { get; }

    /// <summary>The seed.</summary>
    public int Seed { get; }

    /// <summary>The standard deviation of linear and embedding weights.</summary>
    public float Scale { get; }

    /// <inheritdoc/>
    public string Source => string.Create(CultureInfo.InvariantCulture, $"random:seed={Seed}");

    /// <inheritdoc/>
    public bool IsRandom => true;

    /// <inheritdoc/>
    public float[] Get(string name)
    {
        var tensor = LlamaTensorNames.Find(Config, name);
        if (name == LlamaTensorNames.LmHead && Config.TieWordEmbeddings)
        {
            name = LlamaTensorNames.Embedding;
        }

        var values = new float[tensor.ElementCount];
        var isNorm = tensor.Shape.Count == 1;
        var (center, halfWidth) = isNorm ? (1f, 0.5f) : (0f, Scale * MathF.Sqrt(3));
        var tensorSeed = Mix(((ulong)(uint)Seed * Golden) ^ Fnv1a(name));
        var blocks = (int)((values.LongLength + BlockSize - 1) / BlockSize);
        Parallel.For(0, blocks, block =>
        {
            var start = (long)block * BlockSize;
            var end = Math.Min(values.LongLength, start + BlockSize);
            var state = tensorSeed + ((ulong)start * Golden);
            for (var i = start; i < end; i++)
            {
                state += Golden;
                var unit = (Mix(state) >> 40) * (1.0f / (1 << 24));
                values[i] = center + (halfWidth * ((2 * unit) - 1));
            }
        });
        return values;
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong Fnv1a(string text)
    {
        var hash = 0xCBF29CE484222325UL;
        foreach (var b in Encoding.UTF8.GetBytes(text))
        {
            hash = (hash ^ b) * 0x100000001B3UL;
        }

        return hash;
    }
}
