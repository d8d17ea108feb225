using System.Text.Json;
using Gateway.Catalog;
using Gateway.Errors;
using Gateway.Generation;

namespace Gateway.WorkersAi;

/// <summary>Validates a Workers AI text-generation input (the documented <c>oneOf</c> Prompt / Messages schema)
/// against the model's catalog entry.</summary>
internal static class WorkersAiRequestParser
{
    private static readonly HashSet<string> Roles = new(StringComparer.Ordinal) { "system", "user", "assistant", "tool" };

    // Fields of the Messages schema that the Prompt schema does not have.
    private static readonly string[] MessagesOnly = ["tools", "functions"];

    // The schema's boolean fields. The documentation's own curl example sends "raw": "true", so the strings "true" and
    // "false" are accepted too (and forwarded as booleans).
    private static readonly string[] Booleans = ["raw", "stream"];

    public static GenerationRequest Parse(ClientApi api, ModelInfo model, byte[] body, JsonDocument document, string? accountId)
    {
        var root = document.RootElement;
        var hasPrompt = JsonFields.Get(root, "prompt") is not null;
        var hasMessages = JsonFields.Get(root, "messages") is not null;
        if (hasPrompt && hasMessages)
        {
            throw ApiError.InvalidException("Provide exactly one of 'prompt' or 'messages', not both.");
        }
        if (!hasPrompt && !hasMessages)
        {
            throw ApiError.InvalidException("Missing input: provide 'prompt' (a string) or 'messages' (an array of {role, content}).");
        }

        string? prompt = null;
        List<ChatMessage>? messages = null;
        if (hasPrompt)
        {
            prompt = JsonFields.String(root, "prompt")!;
            if (prompt.Length == 0)
            {
                throw ApiError.InvalidException("'prompt' must not be empty (minimum length 1).", "prompt");
            }
            JsonFields.CheckLength(model, prompt, "prompt");
            foreach (var name in MessagesOnly)
            {
                if (JsonFields.Get(root, name) is not null)
                {
                    throw ApiError.InvalidException($"'{name}' is only accepted with 'messages', not with 'prompt'.", name);
                }
            }
        }
        else
        {
            messages = ParseMessages(model, JsonFields.OfKind(root, "messages", JsonValueKind.Array)!.Value);
        }

        var ranges = model.Ranges;
        var stream = JsonFields.BoolOrBoolString(root, "stream", out var streamString) ?? false;
        var raw = JsonFields.BoolOrBoolString(root, "raw", out var rawString) ?? false;
        var maxTokens = JsonFields.Integer(root, "max_tokens", (1, model.MaxTokensLimit));
        var lora = JsonFields.String(root, "lora");
        if (lora is not null && !model.Lora)
        {
            throw new ApiException(ApiErrors.LoraUnsupported(model.Id));
        }
        if (lora is { Length: 0 })
        {
            throw ApiError.InvalidException("'lora' must not be empty.", "lora");
        }
        var tools = JsonFields.OfKind(root, "tools", JsonValueKind.Array);
        var functions = JsonFields.OfKind(root, "functions", JsonValueKind.Array);
        if ((tools is not null || functions is not null) && !model.Tools)
        {
            throw ApiError.InvalidException($"The model {model.Id} does not support tools or functions.", tools is not null ? "tools" : "functions");
        }
        if (tools is { } t)
        {
            ValidateTools(t);
        }
        if (functions is { } f)
        {
            ValidateFunctions(f);
        }
        var responseFormat = JsonFields.OfKind(root, "response_format", JsonValueKind.Object);
        if (responseFormat is { } rf)
        {
            var type = JsonFields.String(rf, "type", "response_format.type");
            if (type is not null and not "json_object" and not "json_schema")
            {
                throw ApiError.InvalidException($"'response_format.type' must be 'json_object' or 'json_schema', got '{type}'.", "response_format.type");
            }
        }

        return new GenerationRequest
        {
            Api = api,
            Model = model,
            Body = streamString || rawString ? BooleanStrings.Normalize(root, Booleans) : body,
            Document = document,
            Prompt = prompt,
            Messages = messages,
            Raw = raw,
            Stream = stream,
            MaxTokens = (int)(maxTokens ?? (stream ? model.DefaultMaxTokensStream : model.DefaultMaxTokens)),
            MaxTokensGiven = maxTokens is not null,
            Sampling = new SamplingParameters
            {
                Temperature = JsonFields.Number(root, "temperature", ranges.Temperature),
                TopP = JsonFields.Number(root, "top_p", ranges.TopP),
                TopK = (int?)JsonFields.Integer(root, "top_k", ranges.TopK),
                Seed = JsonFields.Integer(root, "seed", ranges.Seed),
                RepetitionPenalty = JsonFields.Number(root, "repetition_penalty", ranges.RepetitionPenalty),
                FrequencyPenalty = JsonFields.Number(root, "frequency_penalty", ranges.FrequencyPenalty),
                PresencePenalty = JsonFields.Number(root, "presence_penalty", ranges.PresencePenalty),
            },
            Lora = lora,
            Tools = tools,
            Functions = functions,
            ResponseFormat = responseFormat,
            AccountId = accountId,
        };
    }

    private static List<ChatMessage> ParseMessages(ModelInfo model, JsonElement array) =>
        JsonFields.Messages(model, array, "an object with 'role' and 'content'", (item, at) =>
        {
            var role = JsonFields.Get(item, "role") is { } r
                ? (r.ValueKind == JsonValueKind.String ? r.GetString()! : throw JsonFields.TypeError($"{at}.role", "a string", r))
                : throw ApiError.InvalidException($"'{at}.role' is required.", $"{at}.role");
            if (!Roles.Contains(role))
            {
                throw ApiError.InvalidException($"'{at}.role' must be one of system, user, assistant, tool; got '{role}'.", $"{at}.role");
            }
            var content = JsonFields.Get(item, "content") is { } c
                ? (c.ValueKind == JsonValueKind.String ? c.GetString()! : throw JsonFields.TypeError($"{at}.content", "a string", c))
                : throw ApiError.InvalidException($"'{at}.content' is required.", $"{at}.content");
            return new ChatMessage(role, content);
        });

    private static void ValidateTools(JsonElement tools)
    {
        var i = 0;
        foreach (var tool in tools.EnumerateArray())
        {
            var at = $"tools[{i++}]";
            if (tool.ValueKind != JsonValueKind.Object)
            {
                throw JsonFields.TypeError(at, "an object", tool);
            }
            // Either the flat {name, description, parameters} form or {type, function:{...}}.
            var fn = tool;
            var where = at;
            if (JsonFields.Get(tool, "function") is { } inner)
            {
                fn = inner;
                where = $"{at}.function";
            }
            if (fn.ValueKind != JsonValueKind.Object)
            {
                throw JsonFields.TypeError(where, "an object", fn);
            }
            if (string.IsNullOrEmpty(JsonFields.String(fn, "name", $"{where}.name")))
            {
                throw ApiError.InvalidException($"'{where}.name' is required.", $"{where}.name");
            }
            if (JsonFields.Get(fn, "parameters") is { } p && p.ValueKind != JsonValueKind.Object)
            {
                throw JsonFields.TypeError($"{where}.parameters", "an object", p);
            }
        }
    }

    private static void ValidateFunctions(JsonElement functions)
    {
        var i = 0;
        foreach (var fn in functions.EnumerateArray())
        {
            var at = $"functions[{i++}]";
            if (fn.ValueKind != JsonValueKind.Object)
            {
                throw JsonFields.TypeError(at, "an object with 'name' and 'code'", fn);
            }
            if (JsonFields.String(fn, "name", $"{at}.name") is null || JsonFields.String(fn, "code", $"{at}.code") is null)
            {
                throw ApiError.InvalidException($"'{at}' requires 'name' and 'code' strings.", at);
            }
        }
    }

}
