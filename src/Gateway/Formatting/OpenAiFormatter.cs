using System.Runtime.InteropServices;
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
            // The upstream's own bytes, not parsed and written again: the same JSON, with the upstream's whitespace
            // and escaping.
            return JsonMarshal.GetRawUtf8Value(raw).ToArray();
        }
        var chat = request.Api == ClientApi.OpenAiChat;
        return OpenAiJson.Completion(chat, NewId(chat), time.GetUtcNow().ToUnixTimeSeconds(), request.Model.Id, result.Text,
            result.ToolCalls, result.FinishReason ?? "stop", result.Usage);
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
                    output.Add(OpenAiJson.UsageChunk(_chat, id, created, request.Model.Id, usage));
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
            output.Add(OpenAiJson.Chunk(_chat, chunkId, chunkCreated, model, role: !started, "", [], ContentFilter));
            return true;
        }

        private string Chunk(string text, IReadOnlyList<ToolCall> calls, string? finish)
        {
            var role = !_roleSent;
            _roleSent = true;
            return OpenAiJson.Chunk(_chat, id, created, request.Model.Id, role, text, calls, finish);
        }
    }
}
