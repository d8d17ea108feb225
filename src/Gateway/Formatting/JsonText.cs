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

    // Buffers larger than this are not kept for the next payload of the thread.
    private const int MaxCachedBytes = 64 * 1024;

    // One buffer and writer per thread, reused by every payload built on it (taken while in use, so a payload built
    // inside another's callback gets its own).
    [ThreadStatic]
    private static (ArrayBufferWriter<byte> Buffer, Utf8JsonWriter Writer)? _cached;

    public static byte[] Bytes(Action<Utf8JsonWriter> write) => Build(write, static span => span.ToArray());

    public static string String(Action<Utf8JsonWriter> write) => Build(write, static span => Encoding.UTF8.GetString(span));

    private static T Build<T>(Action<Utf8JsonWriter> write, Func<ReadOnlySpan<byte>, T> result)
    {
        var (buffer, json) = _cached ?? (new ArrayBufferWriter<byte>(1024), new Utf8JsonWriter(Stream.Null, WriterOptions));
        _cached = null;
        buffer.ResetWrittenCount();
        json.Reset(buffer);
        write(json);
        json.Flush();
        var value = result(buffer.WrittenSpan);
        if (buffer.Capacity <= MaxCachedBytes)
        {
            json.Reset(Stream.Null);
            _cached = (buffer, json);
        }
        return value;
    }

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
