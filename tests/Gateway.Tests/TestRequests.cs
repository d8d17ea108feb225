using System.Text;
using System.Text.Json;
using Gateway.Catalog;
using Gateway.Generation;
using Gateway.OpenAi;
using Gateway.Upstreams;
using Gateway.WorkersAi;

namespace Gateway.Tests;

/// <summary>Builds <see cref="GenerationRequest"/>s the way the gateway does: through the surface's parser, against a
/// small catalog shaped like the shipped one.</summary>
internal static class TestRequests
{
    public const string Llama2 = "@cf/meta/llama-2-7b-chat-fp16";
    public const string Llama31 = "@cf/meta/llama-3.1-8b-instruct-awq";
    public const string LoraModel = "@cf/meta-llama/llama-2-7b-chat-hf-lora";

    /// <summary>A catalog id the upstream serves under another name.</summary>
    public const string Renamed = "@cf/example/renamed";

    /// <summary>Llama 2 with the smallest window of the shipped catalog (2048 tokens).</summary>
    public const string Int8 = "@cf/meta/llama-2-7b-chat-int8";

    /// <summary>A Llama 3 model with an 8192-token window.</summary>
    public const string Llama3Window = "@cf/example/llama-3-8k";

    /// <summary>A model with a 2048-token window and no tokenizer family (estimated).</summary>
    public const string NoFamily = "@cf/example/no-family";

    public static readonly ModelCatalog Catalog = ModelCatalog.Build(new Dictionary<string, ModelOptions>
    {
        [Llama2] = new() { ContextTokens = 3072, DefaultMaxTokens = 256, DefaultMaxTokensStream = 2500, MaxTokensLimit = 2500 },
        [Llama31] = new()
        {
            MaxPromptChars = 131072,
            Tools = true,
            Ranges = new ParameterRangesOptions
            {
                TopP = new NumberRange { Min = 0, Max = 2 },
                RepetitionPenalty = new NumberRange { Min = 0, Max = 2 },
                FrequencyPenalty = new NumberRange { Min = 0, Max = 2 },
                PresencePenalty = new NumberRange { Min = 0, Max = 2 },
            },
        },
        [LoraModel] = new() { Lora = true, Beta = true },
        [Renamed] = new() { UpstreamModel = "served-name", Tools = true },
        [Int8] = new() { Tokenizer = "llama2", ContextTokens = 2048, DefaultMaxTokens = 256, DefaultMaxTokensStream = 1800, MaxTokensLimit = 1800 },
        [Llama3Window] = new() { Tokenizer = "llama3", ContextTokens = 8192, MaxTokensLimit = 2048 },
        [NoFamily] = new() { ContextTokens = 2048, MaxTokensLimit = 1800 },
    });

    public static ModelInfo Model(string id) => Catalog.TryGet(id, out var model) ? model : throw new ArgumentException(id);

    /// <summary>A Workers AI request (<c>/ai/run/{model}</c> unless <paramref name="api"/> says REST).</summary>
    public static GenerationRequest WorkersAiRequest(string json, string model = Llama2, ClientApi api = ClientApi.WorkersAiShort)
    {
        var body = Encoding.UTF8.GetBytes(json);
        return WorkersAiRequestParser.Parse(api, Model(model), body, JsonDocument.Parse(body), "client-account");
    }

    /// <summary>An OpenAI request; the model comes from the body, as on the wire.</summary>
    public static GenerationRequest OpenAiRequest(string json, ClientApi api = ClientApi.OpenAiChat)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var document = JsonDocument.Parse(body);
        return OpenAiRequestParser.Parse(api, Model(OpenAiRequestParser.ReadModelId(document)), body, document);
    }

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement;

    public static JsonElement Json(ReadOnlyMemory<byte> utf8) => JsonDocument.Parse(utf8).RootElement;

    public static string Text(ReadOnlyMemory<byte> utf8) => Encoding.UTF8.GetString(utf8.Span);

    /// <summary>The JSON re-serialized without whitespace, for comparing shapes exactly.</summary>
    public static string Compact(string json) => JsonSerializer.Serialize(Json(json));

    public static UpstreamOptions Options(Action<UpstreamOptions>? configure = null)
    {
        var options = new UpstreamOptions { AccountId = "gateway-account" };
        configure?.Invoke(options);
        return options;
    }
}
