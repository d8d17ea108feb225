using System.Globalization;
using System.Text.Json;
using Gateway.Catalog;
using Gateway.Errors;

namespace Gateway.Generation;

/// <summary>Typed reads of optional request fields; each failure names the field and what was expected.</summary>
internal static class JsonFields
{
    public static JsonElement? Get(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "undefined",
    };

    public static ApiException TypeError(string name, string expected, JsonElement value) =>
        ApiError.InvalidException($"'{name}' must be {expected}, got {Describe(value.ValueKind)}", name);

    /// <param name="obj">The object holding the field.</param>
    /// <param name="name">The field's name in <paramref name="obj"/>.</param>
    /// <param name="path">The field's full path in the body (for example <c>stream_options.include_usage</c>) when
    /// <paramref name="obj"/> is nested; errors name it.</param>
    public static bool? Bool(JsonElement obj, string name, string? path = null)
    {
        if (Get(obj, name) is not { } v)
        {
            return null;
        }
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw TypeError(path ?? name, "a boolean", v),
        };
    }

    /// <summary>Reads a boolean that may also be written as the string <c>"true"</c> or <c>"false"</c> (exactly, lower
    /// case), as the Workers AI documentation's own examples do; anything else is a 400 naming the field.</summary>
    /// <param name="obj">The object holding the field.</param>
    /// <param name="name">The field's name in <paramref name="obj"/>.</param>
    /// <param name="fromString">Whether the value was a string.</param>
    public static bool? BoolOrBoolString(JsonElement obj, string name, out bool fromString)
    {
        fromString = false;
        if (Get(obj, name) is not { } v)
        {
            return null;
        }
        const string expected = "true or false (the strings \"true\" and \"false\" are accepted too)";
        switch (v.ValueKind)
        {
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.String:
                fromString = true;
                return v.GetString() switch
                {
                    "true" => true,
                    "false" => false,
                    var s => throw ApiError.InvalidException($"'{name}' must be {expected}, got the string {Quote(s!)}", name),
                };
            default:
                throw TypeError(name, expected, v);
        }
    }

    /// <summary>A string value for an error message, quoted and cut to a readable length.</summary>
    public static string Quote(string value)
    {
        const int max = 40;
        if (value.Length > max)
        {
            // Never cut a surrogate pair in half.
            value = value[..(char.IsHighSurrogate(value[max - 1]) ? max - 1 : max)] + "...";
        }
        return JsonSerializer.Serialize(value);
    }

    /// <param name="obj">The object holding the field.</param>
    /// <param name="name">The field's name in <paramref name="obj"/>.</param>
    /// <param name="path">The field's full path in the body when <paramref name="obj"/> is nested; errors name it.</param>
    public static string? String(JsonElement obj, string name, string? path = null)
    {
        if (Get(obj, name) is not { } v)
        {
            return null;
        }
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw TypeError(path ?? name, "a string", v);
    }

    public static double? Number(JsonElement obj, string name, (double Min, double Max) range)
    {
        if (Get(obj, name) is not { } v)
        {
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number)
        {
            throw TypeError(name, "a number", v);
        }
        var d = v.GetDouble();
        CheckRange(name, d, range);
        return d;
    }

    public static long? Integer(JsonElement obj, string name, (double Min, double Max) range)
    {
        if (Get(obj, name) is not { } v)
        {
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number)
        {
            throw TypeError(name, "an integer", v);
        }
        if (!v.TryGetInt64(out var n))
        {
            // 5.0 is an integer in JSON Schema; 5.5 and 1e30 are not.
            var d = v.GetDouble();
            if (d != Math.Floor(d) || d > long.MaxValue || d < long.MinValue)
            {
                throw ApiError.InvalidException($"'{name}' must be an integer, got {v.GetRawText()}", name);
            }
            n = (long)d;
        }
        CheckRange(name, n, range);
        return n;
    }

    public static JsonElement? OfKind(JsonElement obj, string name, JsonValueKind kind)
    {
        if (Get(obj, name) is not { } v)
        {
            return null;
        }
        return v.ValueKind == kind ? v : throw TypeError(name, Describe(kind), v);
    }

    private static void CheckRange(string name, double value, (double Min, double Max) range)
    {
        if (value < range.Min || value > range.Max)
        {
            throw ApiError.InvalidException(
                string.Create(CultureInfo.InvariantCulture, $"'{name}' must be between {range.Min} and {range.Max}, got {value}"), name);
        }
    }

    /// <summary>Reads a non-empty <c>messages</c> array; <paramref name="readOne"/> reads one object (given its path),
    /// and every content is checked against the model's length limit.</summary>
    public static List<ChatMessage> Messages(ModelInfo model, JsonElement array, string objectDescription, Func<JsonElement, string, ChatMessage> readOne)
    {
        if (array.GetArrayLength() == 0)
        {
            throw ApiError.InvalidException("'messages' must contain at least one message.", "messages");
        }
        var list = new List<ChatMessage>(array.GetArrayLength());
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var at = $"messages[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw TypeError(at, objectDescription, item);
            }
            var message = readOne(item, at);
            CheckLength(model, message.Content, $"{at}.content");
            list.Add(message);
        }
        return list;
    }

    /// <summary>Rejects text longer than the model's <c>MaxPromptChars</c>.</summary>
    public static void CheckLength(ModelInfo model, string text, string field)
    {
        if (model.MaxPromptChars is { } max && text.Length > max)
        {
            throw ApiError.InvalidException($"'{field}' is {text.Length} characters; {model.Id} accepts at most {max}.", field);
        }
    }
}
