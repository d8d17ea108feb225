using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Upstreams;

namespace Gateway.Formatting;

/// <summary>Writes the OpenAI completion shapes (<c>chat.completion</c>, <c>text_completion</c> and their stream
/// chunks) from plain values, for the client formatter and the in-process upstreams alike.</summary>
internal static class OpenAiJson
{
    /// <summary>A whole <c>chat.completion</c> (<paramref name="chat"/>) or <c>text_completion</c> body.</summary>
    /// <remarks>A chat message has <c>content: null</c> when it was filtered (as Azure OpenAI reports it) or when it
    /// carries only tool calls.</remarks>
    public static byte[] Completion(bool chat, string id, long created, string model, string text,
        IReadOnlyList<ToolCall> toolCalls, string finishReason, Usage? usage) => JsonText.Bytes(json =>
    {
        WriteHeader(json, chat ? "chat.completion" : "text_completion", id, created, model);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        if (chat)
        {
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            if ((toolCalls.Count > 0 && text.Length == 0) || finishReason == OpenAiFormatter.ContentFilter)
            {
                json.WriteNull("content");
            }
            else
            {
                json.WriteString("content", text);
            }
            if (toolCalls.Count > 0)
            {
                WriteToolCalls(json, toolCalls, withIndex: false);
            }
            json.WriteEndObject();
        }
        else
        {
            json.WriteString("text", text);
        }
        json.WriteNull("logprobs");
        json.WriteString("finish_reason", finishReason);
        json.WriteEndObject();
        json.WriteEndArray();
        if (usage is not null)
        {
            JsonText.WriteUsage(json, usage);
        }
        json.WriteEndObject();
    });

    /// <summary>One <c>chat.completion.chunk</c> (<paramref name="chat"/>) or <c>text_completion</c> stream chunk: the
    /// last one when <paramref name="finishReason"/> is set (a chat delta then has no content); <paramref name="role"/>
    /// names the assistant in a chat delta (the stream's first chunk).</summary>
    public static string Chunk(bool chat, string id, long created, string model, bool role, string text,
        IReadOnlyList<ToolCall> toolCalls, string? finishReason) => JsonText.String(json =>
    {
        WriteHeader(json, chat ? "chat.completion.chunk" : "text_completion", id, created, model);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        if (chat)
        {
            json.WriteStartObject("delta");
            if (role)
            {
                json.WriteString("role", "assistant");
            }
            if (finishReason is null)
            {
                json.WriteString("content", text);
            }
            if (toolCalls.Count > 0)
            {
                WriteToolCalls(json, toolCalls, withIndex: true);
            }
            json.WriteEndObject();
        }
        else
        {
            json.WriteString("text", text);
        }
        json.WriteNull("logprobs");
        if (finishReason is null)
        {
            json.WriteNull("finish_reason");
        }
        else
        {
            json.WriteString("finish_reason", finishReason);
        }
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    });

    /// <summary>The stream chunk that carries only the usage (<c>stream_options.include_usage</c>), with no choices.</summary>
    public static string UsageChunk(bool chat, string id, long created, string model, Usage usage) => JsonText.String(json =>
    {
        WriteHeader(json, chat ? "chat.completion.chunk" : "text_completion", id, created, model);
        json.WriteStartArray("choices");
        json.WriteEndArray();
        JsonText.WriteUsage(json, usage);
        json.WriteEndObject();
    });

    private static void WriteHeader(Utf8JsonWriter json, string objectName, string id, long created, string model)
    {
        json.WriteStartObject();
        json.WriteString("id", id);
        json.WriteString("object", objectName);
        json.WriteNumber("created", created);
        json.WriteString("model", model);
    }

    private static void WriteToolCalls(Utf8JsonWriter json, IReadOnlyList<ToolCall> calls, bool withIndex)
    {
        json.WriteStartArray("tool_calls");
        for (var i = 0; i < calls.Count; i++)
        {
            json.WriteStartObject();
            if (withIndex)
            {
                json.WriteNumber("index", i);
            }
            json.WriteString("id", calls[i].Id ?? $"call_{i}_{RandomNumberGenerator.GetHexString(12, lowercase: true)}");
            json.WriteString("type", "function");
            json.WriteStartObject("function");
            json.WriteString("name", calls[i].Name);
            json.WriteString("arguments", calls[i].Arguments);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }
}
