using System.Globalization;

namespace Guard.Onnx.Models;

/// <summary>Checks that a <see cref="LlamaConfig"/> describes a decoder the model builder and the engine can run.</summary>
public static class LlamaConfigValidator
{
    /// <summary>The RoPE scaling kinds the builder implements.</summary>
    public static IReadOnlyList<string> SupportedRopeScalings { get; } = ["default", "linear", "llama3"];

    /// <summary>Returns every problem with a config (empty when it is valid); each message names the field and its value.</summary>
    /// <param name="config">The config.</param>
    /// <returns>The problems.</returns>
    public static IReadOnlyList<string> Validate(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = new List<string>();
        Positive(errors, "vocab_size", config.VocabSize);
        Positive(errors, "hidden_size", config.HiddenSize);
        Positive(errors, "intermediate_size", config.IntermediateSize);
        Positive(errors, "num_hidden_layers", config.NumLayers);
        Positive(errors, "num_attention_heads", config.NumHeads);
        Positive(errors, "num_key_value_heads", config.NumKvHeads);
        Positive(errors, "max_position_embeddings", config.MaxPositions);
        if (config.NumHeads > 0 && config.HiddenSize > 0)
        {
            if (config.HiddenSize % config.NumHeads != 0)
            {
                errors.Add(Invariant($"hidden_size {config.HiddenSize} is not a multiple of num_attention_heads {config.NumHeads}"));
            }
            else if (config.HeadDim % 2 != 0)
            {
                errors.Add(Invariant($"the head size hidden_size / num_attention_heads = {config.HeadDim} is odd; rotary embeddings need an even head size"));
            }
        }

        if (config.NumHeads > 0 && config.NumKvHeads > 0 && config.NumHeads % config.NumKvHeads != 0)
        {
            errors.Add(Invariant($"num_attention_heads {config.NumHeads} is not a multiple of num_key_value_heads {config.NumKvHeads}"));
        }

        if (!(config.RmsNormEps > 0))
        {
            errors.Add(Invariant($"rms_norm_eps must be positive, got {config.RmsNormEps}"));
        }

        if (!(config.RopeTheta > 0))
        {
            errors.Add(Invariant($"rope_theta must be positive, got {config.RopeTheta}"));
        }

        if (config.RopeScaling is { } scaling)
        {
            ValidateRopeScaling(errors, scaling);
        }

        return errors;
    }

    private static void ValidateRopeScaling(List<string> errors, LlamaRopeScaling scaling)
    {
        if (!SupportedRopeScalings.Contains(scaling.Kind, StringComparer.Ordinal))
        {
            errors.Add($"rope_scaling type \"{scaling.Kind}\" is not supported; supported: {string.Join(", ", SupportedRopeScalings)}");
            return;
        }

        if (scaling.Kind != "default" && !(scaling.Factor > 0))
        {
            errors.Add(Invariant($"rope_scaling.factor must be positive, got {scaling.Factor}"));
        }

        if (scaling.Kind == "llama3")
        {
            if (scaling.LowFreqFactor is not > 0 || scaling.HighFreqFactor is not > 0 || scaling.OriginalMaxPositions is not > 0)
            {
                errors.Add("rope_scaling llama3 needs positive low_freq_factor, high_freq_factor and original_max_position_embeddings");
            }
            else if (scaling.HighFreqFactor <= scaling.LowFreqFactor)
            {
                errors.Add(Invariant($"rope_scaling.high_freq_factor {scaling.HighFreqFactor} must exceed low_freq_factor {scaling.LowFreqFactor}"));
            }
        }
    }

    private static void Positive(List<string> errors, string field, int value)
    {
        if (value <= 0)
        {
            errors.Add(Invariant($"{field} must be positive, got {value}"));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
