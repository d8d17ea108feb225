using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Gateway.Upstreams;

namespace Gateway.Formatting;

/// <summary>Small helpers to build JSON payloads with <see cref="Utf8JsonWriter"/>.</summary>
internal static class JsonText
{
    /// <summary>Writer settings for every JSON the gateway emits: apostrophes, '&lt;' and non-ASCII text stay readable
    /// (the output is an API body, never embedded in HTML).</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static byte[] Bytes(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(json);
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static string String(Action<Utf8JsonWriter> write) => Encoding.UTF8.GetString(Bytes(write));

    public static void WriteUsage(Utf8JsonWriter json, Usage usage)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", usage.PromptTokens);
        json.WriteNumber("completion_tokens", usage.CompletionTokens);
        json.WriteNumber("total_tokens", usage.TotalTokens);
        json.WriteEndObject();
    }

    /// <summary>Writes tool-call arguments as a JSON value when they parse, as a string otherwise.</summary>
    public static void WriteArgumentsObject(Utf8JsonWriter json, string arguments)
    {
        try
        {
            using var doc = JsonDocument.Parse(arguments);
            json.WritePropertyName("arguments");
            doc.RootElement.WriteTo(json);
        }
        catch (JsonException)
        {
            json.WriteString("arguments", arguments);
        }
    }
}
