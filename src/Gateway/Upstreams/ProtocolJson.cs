using System.Text.Json;

namespace Gateway.Upstreams;

/// <summary>Lenient reads of upstream JSON shared by the protocol readers.</summary>
internal static class ProtocolJson
{
    /// <summary>Parses a stream event's data, which must be a JSON object.</summary>
    public static JsonDocument ParseEvent(string data, string protocol)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(data);
        }
        catch (JsonException ex)
        {
            throw new UpstreamProtocolException($"{protocol} stream event is not JSON", ex);
        }
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            doc.Dispose();
            throw new UpstreamProtocolException($"{protocol} stream event is not a JSON object");
        }
        return doc;
    }

    public static string? String(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString() : null;

    public static Usage? ReadUsage(JsonElement obj)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty("usage", out var u) || u.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var prompt = Int(u, "prompt_tokens");
        var completion = Int(u, "completion_tokens");
        var total = u.TryGetProperty("total_tokens", out _) ? Int(u, "total_tokens") : prompt + completion;
        return new Usage(prompt, completion, total);
    }

    /// <summary>Text of a field that may be a string or, in JSON mode, a JSON value.</summary>
    public static string TextOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString()!,
        JsonValueKind.Null or JsonValueKind.Undefined => "",
        _ => value.GetRawText(),
    };

    private static int Int(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d) ? (int)d : 0;
}
