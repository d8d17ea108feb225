using System.Text;
using System.Text.Json;
using Gateway.Catalog;
using Gateway.Errors;
using Gateway.Generation;

namespace Gateway.OpenAi;

/// <summary>Validates OpenAI <c>/v1/chat/completions</c> and <c>/v1/completions</c> bodies.</summary>
/// <remarks>Ranges are OpenAI's own (temperature 0..2, top_p 0..1, penalties -2..2), then narrowed by the catalog.
/// Unknown fields are accepted and forwarded to OpenAI-compatible upstreams, so newer client parameters keep
/// working; they are dropped when translating to Workers AI.</remarks>
internal static class OpenAiRequestParser
{
    private static readonly HashSet<string> Roles = new(StringComparer.Ordinal)
    {
        "system", "developer", "user", "assistant", "tool", "function",
    };

    /// <summary>Reads the <c>model</c> field, which both endpoints require.</summary>
    public static string ReadModelId(JsonDocument document)
    {
        var root = document.RootElement;
        var model = JsonFields.Get(root, "model") is { } m
            ? (m.ValueKind == JsonValueKind.String ? m.GetString()! : throw JsonFields.TypeError("model", "a string", m))
            : throw ApiError.InvalidException("you must provide a model parameter", "model");
        return model.Length == 0 ? throw ApiError.InvalidException("'model' must not be empty.", "model") : model;
    }

    public static GenerationRequest Parse(ClientApi api, ModelInfo model, byte[] body, JsonDocument document)
    {
        var root = document.RootElement;
        string? prompt = null;
        List<ChatMessage>? messages = null;
        if (api == ClientApi.OpenAiChat)
        {
            if (JsonFields.Get(root, "messages") is null)
            {
                throw ApiError.InvalidException("Missing required parameter: 'messages'.", "messages");
            }
            messages = ParseMessages(model, JsonFields.OfKind(root, "messages", JsonValueKind.Array)!.Value);
        }
        else
        {
            prompt = ParsePrompt(model, root);
        }

        var stream = JsonFields.Bool(root, "stream") ?? false;
        var includeUsage = false;
        if (JsonFields.OfKind(root, "stream_options", JsonValueKind.Object) is { } so)
        {
            if (!stream)
            {
                throw ApiError.InvalidException("'stream_options' is only allowed when 'stream' is true.", "stream_options");
            }
            includeUsage = JsonFields.Bool(so, "include_usage", "stream_options.include_usage") ?? false;
        }
        var maxTokens = JsonFields.Integer(root, "max_completion_tokens", (1, model.MaxTokensLimit))
            ?? JsonFields.Integer(root, "max_tokens", (1, model.MaxTokensLimit));
        var n = JsonFields.Integer(root, "n", (1, 128));
        if (n is > 1)
        {
            throw ApiError.InvalidException("'n' greater than 1 is not supported: each choice would need its own moderation pass.", "n");
        }
        var stop = JsonFields.Get(root, "stop");
        if (stop is { } s && s.ValueKind != JsonValueKind.String
            && (s.ValueKind != JsonValueKind.Array || s.GetArrayLength() > 4 || s.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String)))
        {
            throw ApiError.InvalidException("'stop' must be a string or an array of up to 4 strings.", "stop");
        }
        var tools = JsonFields.OfKind(root, "tools", JsonValueKind.Array);
        if (tools is not null && !model.Tools)
        {
            throw ApiError.InvalidException($"The model {model.Id} does not support tools.", "tools");
        }
        var ranges = model.Ranges;
        return new GenerationRequest
        {
            Api = api,
            Model = model,
            Body = body,
            Document = document,
            Prompt = prompt,
            Messages = messages,
            Raw = api == ClientApi.OpenAiCompletions,
            Stream = stream,
            IncludeStreamUsage = includeUsage,
            MaxTokens = (int)(maxTokens ?? (stream ? model.DefaultMaxTokensStream : model.DefaultMaxTokens)),
            MaxTokensGiven = maxTokens is not null,
            Sampling = new SamplingParameters
            {
                Temperature = JsonFields.Number(root, "temperature", Narrow((0, 2), ranges.Temperature)),
                TopP = JsonFields.Number(root, "top_p", Narrow((0, 1), ranges.TopP)),
                TopK = (int?)JsonFields.Integer(root, "top_k", ranges.TopK),
                Seed = JsonFields.Integer(root, "seed", (long.MinValue, long.MaxValue)),
                RepetitionPenalty = JsonFields.Number(root, "repetition_penalty", ranges.RepetitionPenalty),
                FrequencyPenalty = JsonFields.Number(root, "frequency_penalty", Narrow((-2, 2), ranges.FrequencyPenalty)),
                PresencePenalty = JsonFields.Number(root, "presence_penalty", Narrow((-2, 2), ranges.PresencePenalty)),
            },
            Tools = tools,
            ToolChoice = JsonFields.Get(root, "tool_choice"),
            ResponseFormat = JsonFields.OfKind(root, "response_format", JsonValueKind.Object),
            Stop = stop,
        };
    }

    private static (double, double) Narrow((double Min, double Max) api, (double Min, double Max) model) =>
        (Math.Max(api.Min, model.Min), Math.Min(api.Max, model.Max));

    private static string ParsePrompt(ModelInfo model, JsonElement root)
    {
        if (JsonFields.Get(root, "prompt") is not { } p)
        {
            throw ApiError.InvalidException("Missing required parameter: 'prompt'.", "prompt");
        }
        var text = p.ValueKind switch
        {
            JsonValueKind.String => p.GetString()!,
            // A batch of prompts would need one moderation verdict per choice; a single-item array is accepted.
            JsonValueKind.Array when p.GetArrayLength() == 1 && p[0].ValueKind == JsonValueKind.String => p[0].GetString()!,
            JsonValueKind.Array => throw ApiError.InvalidException("'prompt' arrays must hold exactly one string.", "prompt"),
            _ => throw JsonFields.TypeError("prompt", "a string", p),
        };
        if (text.Length == 0)
        {
            throw ApiError.InvalidException("'prompt' must not be empty.", "prompt");
        }
        JsonFields.CheckLength(model, text, "prompt");
        return text;
    }

    private static List<ChatMessage> ParseMessages(ModelInfo model, JsonElement array) =>
        JsonFields.Messages(model, array, "an object", (item, at) =>
        {
            var role = JsonFields.Get(item, "role") is { } r && r.ValueKind == JsonValueKind.String
                ? r.GetString()!
                : throw ApiError.InvalidException($"'{at}.role' is required and must be a string.", $"{at}.role");
            if (!Roles.Contains(role))
            {
                throw ApiError.InvalidException(
                    $"Invalid value: '{role}'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'.",
                    $"{at}.role");
            }
            var content = ReadContent(item, at, role);
            return new ChatMessage(role, content);
        });

    private static string ReadContent(JsonElement message, string at, string role)
    {
        var c = JsonFields.Get(message, "content");
        if (c is null)
        {
            // Assistant turns that only call tools carry no content.
            return role == "assistant" && JsonFields.Get(message, "tool_calls") is not null
                ? ""
                : throw ApiError.InvalidException($"'{at}.content' is required.", $"{at}.content");
        }
        var value = c.Value;
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString()!;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw JsonFields.TypeError($"{at}.content", "a string or an array of content parts", value);
        }
        var text = new StringBuilder();
        var j = 0;
        foreach (var part in value.EnumerateArray())
        {
            var where = $"{at}.content[{j++}]";
            var type = part.ValueKind == JsonValueKind.Object ? JsonFields.String(part, "type", $"{where}.type") : null;
            if (type != "text")
            {
                throw ApiError.InvalidException($"'{where}' must be a text part ({{\"type\":\"text\",\"text\":...}}); other part types are not supported.", where);
            }
            if (text.Length > 0)
            {
                text.Append('\n');
            }
            text.Append(JsonFields.String(part, "text", $"{where}.text") ?? throw ApiError.InvalidException($"'{where}.text' is required.", $"{where}.text"));
        }
        return text.ToString();
    }

}
