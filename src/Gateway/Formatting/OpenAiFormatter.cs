using System.Security.Cryptography;
using System.Text.Json;
using Gateway.Generation;
using Gateway.Sse;
using Gateway.Upstreams;

namespace Gateway.Formatting;

/// <summary>OpenAI shapes: <c>chat.completion</c>, <c>text_completion</c> and their stream chunks.</summary>
internal sealed class OpenAiFormatter(TimeProvider time) : IClientFormatter
{
    /// <summary>The finish reason of an answer the response check stopped.</summary>
    public const string ContentFilter = "content_filter";

    public byte[] FormatResult(GenerationRequest request, GenerationResult result, bool native)
    {
        if (native && result.Native is { } raw)
        {
            return JsonText.Bytes(raw.WriteTo);
        }
        var chat = request.Api == ClientApi.OpenAiChat;
        return JsonText.Bytes(json =>
        {
            json.WriteStartObject();
            json.WriteString("id", NewId(chat));
            json.WriteString("object", chat ? "chat.completion" : "text_completion");
            json.WriteNumber("created", time.GetUtcNow().ToUnixTimeSeconds());
            json.WriteString("model", request.Model.Id);
            json.WriteStartArray("choices");
            json.WriteStartObject();
            json.WriteNumber("index", 0);
            if (chat)
            {
                json.WriteStartObject("message");
                json.WriteString("role", "assistant");
                // A filtered answer has its content removed, as Azure OpenAI reports it.
                if ((result.ToolCalls.Count > 0 && result.Text.Length == 0) || result.FinishReason == ContentFilter)
                {
                    json.WriteNull("content");
                }
                else
                {
                    json.WriteString("content", result.Text);
                }
                if (result.ToolCalls.Count > 0)
                {
                    WriteToolCalls(json, result.ToolCalls, withIndex: false);
                }
                json.WriteEndObject();
            }
            else
            {
                json.WriteString("text", result.Text);
            }
            json.WriteNull("logprobs");
            json.WriteString("finish_reason", result.FinishReason ?? "stop");
            json.WriteEndObject();
            json.WriteEndArray();
            if (result.Usage is { } usage)
            {
                JsonText.WriteUsage(json, usage);
            }
            json.WriteEndObject();
        });
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

    private static string NewId(bool chat) => (chat ? "chatcmpl-" : "cmpl-") + RandomNumberGenerator.GetHexString(24, lowercase: true);

    public IClientStreamFormatter CreateStream(GenerationRequest request, bool native) =>
        new Stream(request, native, NewId(request.Api == ClientApi.OpenAiChat), time.GetUtcNow().ToUnixTimeSeconds());

    private sealed class Stream(GenerationRequest request, bool native, string id, long created) : IClientStreamFormatter
    {
        private readonly bool _chat = request.Api == ClientApi.OpenAiChat;
        private bool _roleSent;
        private bool _finished;
        private Usage? _usage;

        private string? _lastNative;

        public void OnDelta(StreamDelta delta, List<string> output)
        {
            if (native)
            {
                if (!delta.Done && delta.NativeData is { } data)
                {
                    output.Add(data);
                    _lastNative = data;
                }
                return;
            }
            _usage = delta.Usage ?? _usage;
            if (delta.Text.Length > 0 || !_roleSent || delta.ToolCalls.Count > 0)
            {
                output.Add(Chunk(delta.Text, delta.ToolCalls, finish: null));
            }
            if (delta.FinishReason is { } finish && !_finished)
            {
                _finished = true;
                output.Add(Chunk("", [], finish));
            }
        }

        public void OnEnd(List<string> output)
        {
            if (!native)
            {
                if (!_finished)
                {
                    _finished = true;
                    output.Add(Chunk("", [], "stop"));
                }
                if (request.IncludeStreamUsage && _usage is { } usage)
                {
                    output.Add(JsonText.String(json =>
                    {
                        WriteHeader(json);
                        json.WriteStartArray("choices");
                        json.WriteEndArray();
                        JsonText.WriteUsage(json, usage);
                        json.WriteEndObject();
                    }));
                }
            }
            output.Add(SseEvent.DoneData);
        }

        public bool TryWriteContentFilter(bool started, List<string> output)
        {
            // A relayed stream keeps the upstream's id, time and model on its last chunk.
            var (chunkId, chunkCreated, model) = (id, created, request.Model.Id);
            if (native && _lastNative is { } last)
            {
                try
                {
                    using var doc = JsonDocument.Parse(last);
                    var root = doc.RootElement;
                    chunkId = ProtocolJson.String(root, "id") ?? chunkId;
                    chunkCreated = root.TryGetProperty("created", out var c) && c.TryGetInt64(out var t) ? t : chunkCreated;
                    model = ProtocolJson.String(root, "model") ?? model;
                }
                catch (JsonException)
                {
                    // The reader already parsed this event; keep the gateway's own values.
                }
            }
            output.Add(JsonText.String(json =>
            {
                json.WriteStartObject();
                json.WriteString("id", chunkId);
                json.WriteString("object", _chat ? "chat.completion.chunk" : "text_completion");
                json.WriteNumber("created", chunkCreated);
                json.WriteString("model", model);
                json.WriteStartArray("choices");
                json.WriteStartObject();
                json.WriteNumber("index", 0);
                if (_chat)
                {
                    json.WriteStartObject("delta");
                    if (!started)
                    {
                        json.WriteString("role", "assistant");
                    }
                    json.WriteEndObject();
                }
                else
                {
                    json.WriteString("text", "");
                }
                json.WriteNull("logprobs");
                json.WriteString("finish_reason", ContentFilter);
                json.WriteEndObject();
                json.WriteEndArray();
                json.WriteEndObject();
            }));
            return true;
        }

        private void WriteHeader(Utf8JsonWriter json)
        {
            json.WriteStartObject();
            json.WriteString("id", id);
            json.WriteString("object", _chat ? "chat.completion.chunk" : "text_completion");
            json.WriteNumber("created", created);
            json.WriteString("model", request.Model.Id);
        }

        private string Chunk(string text, IReadOnlyList<ToolCall> calls, string? finish) => JsonText.String(json =>
        {
            WriteHeader(json);
            json.WriteStartArray("choices");
            json.WriteStartObject();
            json.WriteNumber("index", 0);
            if (_chat)
            {
                json.WriteStartObject("delta");
                if (!_roleSent)
                {
                    json.WriteString("role", "assistant");
                    _roleSent = true;
                }
                if (finish is null)
                {
                    json.WriteString("content", text);
                }
                if (calls.Count > 0)
                {
                    WriteToolCalls(json, calls, withIndex: true);
                }
                json.WriteEndObject();
            }
            else
            {
                _roleSent = true;
                json.WriteString("text", text);
            }
            json.WriteNull("logprobs");
            if (finish is null)
            {
                json.WriteNull("finish_reason");
            }
            else
            {
                json.WriteString("finish_reason", finish);
            }
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }
}
