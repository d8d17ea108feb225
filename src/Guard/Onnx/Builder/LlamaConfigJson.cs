using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Guard.Onnx.Models;

namespace Guard.Onnx.Builder;

/// <summary>Reads and writes the Hugging Face <c>config.json</c> of a Llama checkpoint or model directory.</summary>
public static class LlamaConfigJson
{
    /// <summary>The file name.</summary>
    public const string FileName = "config.json";

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    /// <summary>Reads a <c>config.json</c> and checks that it describes a Llama decoder the builder supports.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The config.</returns>
    /// <exception cref="LlamaCheckpointException">The file is missing, not JSON, or not a supported Llama config; every problem is listed.</exception>
    public static LlamaConfig Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new LlamaCheckpointException(path, "config file not found; a Hugging Face checkpoint holds config.json next to its *.safetensors files", null);
        }

        JsonObject json;
        try
        {
            json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject
                ?? throw new LlamaCheckpointException(path, "not a JSON object", null);
        }
        catch (JsonException ex)
        {
            throw new LlamaCheckpointException(path, $"not valid JSON: {ex.Message}", ex);
        }

        var errors = new List<string>();
        Expect(errors, json, "model_type", "llama");
        Expect(errors, json, "hidden_act", "silu");
        foreach (var bias in new[] { "attention_bias", "mlp_bias" })
        {
            if (json[bias] is JsonValue v && v.TryGetValue<bool>(out var b) && b)
            {
                errors.Add($"{bias} is true; the builder supports Llama layers without biases");
            }
        }

        // Llama 3.x configs may list several end-of-sequence ids; the manifest keeps the first (the tokenizer knows all stop ids).
        foreach (var key in new[] { "bos_token_id", "eos_token_id" })
        {
            if (json[key] is JsonArray { Count: > 0 } list)
            {
                json[key] = list[0]?.DeepClone();
            }
            else if (json[key] is JsonArray or null)
            {
                json.Remove(key);
            }
        }

        LlamaConfig config;
        try
        {
            config = json.Deserialize<LlamaConfig>(Options) ?? throw new LlamaCheckpointException(path, "the config is null", null);
        }
        catch (JsonException ex)
        {
            throw new LlamaCheckpointException(path, $"not a Llama config ({ex.Path ?? "$"}): {ex.Message}", ex);
        }

        if (json["head_dim"] is JsonValue hd && hd.TryGetValue<int>(out var headDim) && config.NumHeads > 0 && headDim != config.HiddenSize / config.NumHeads)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"head_dim {headDim} differs from hidden_size / num_attention_heads = {config.HiddenSize / config.NumHeads}; the builder supports the standard head size only"));
        }

        errors.AddRange(LlamaConfigValidator.Validate(config));
        if (errors.Count > 0)
        {
            throw new LlamaCheckpointException(path, string.Join("; ", errors), null);
        }

        return config;
    }

    /// <summary>Writes a config as a Hugging Face <c>config.json</c> (<c>model_type</c> llama).</summary>
    /// <param name="config">The config.</param>
    /// <param name="path">The file.</param>
    public static void Write(LlamaConfig config, string path)
    {
        var json = JsonSerializer.SerializeToNode(config, Options)!.AsObject();
        json["architectures"] = new JsonArray("LlamaForCausalLM");
        json["model_type"] = "llama";
        json["hidden_act"] = "silu";
        json["num_key_value_heads"] = config.NumKvHeads;
        File.WriteAllText(path, json.ToJsonString(Options) + "\n");
    }

    private static void Expect(List<string> errors, JsonObject json, string key, string expected)
    {
        if (json[key] is JsonValue value && value.TryGetValue<string>(out var actual) && actual != expected)
        {
            errors.Add($"{key} is \"{actual}\"; the builder supports \"{expected}\"");
        }
    }
}
