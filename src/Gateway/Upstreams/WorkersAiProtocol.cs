using System.Buffers;
using System.Text.Json;
using Gateway.Errors;
using Gateway.Generation;
using Gateway.Sse;

namespace Gateway.Upstreams;

/// <summary>The Workers AI REST protocol: Workers AI requests are forwarded byte for byte; OpenAI requests are
/// translated to the Messages or Prompt schema.</summary>
internal sealed class WorkersAiProtocol : IUpstreamProtocol
{
    public UpstreamKind Kind => UpstreamKind.WorkersAi;

    public UpstreamRequest Prepare(GenerationRequest request, UpstreamOptions options)
    {
        if (string.IsNullOrEmpty(options.AccountId))
        {
            throw new InvalidOperationException("Workers AI upstream has no AccountId configured.");
        }
        var path = $"{(options.BasePath ?? "/client/v4").TrimEnd('/')}/accounts/{Uri.EscapeDataString(options.AccountId)}/ai/run/{request.Model.UpstreamModel}";
        if (request.Api.IsWorkersAi())
        {
            return new UpstreamRequest(path, request.Body);
        }
        return new UpstreamRequest(path, TranslateFromOpenAi(request));
    }

    private static byte[] TranslateFromOpenAi(GenerationRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(request.Body.Length + 128);
        using (var json = new Utf8JsonWriter(buffer, Formatting.JsonText.WriterOptions))
        {
            json.WriteStartObject();
            if (request.Messages is { } messages)
            {
                json.WriteStartArray("messages");
                foreach (var m in messages)
                {
                    json.WriteStartObject();
                    json.WriteString("role", m.Role switch { "developer" => "system", "function" => "tool", _ => m.Role });
                    json.WriteString("content", m.Content);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            else
            {
                // OpenAI completions continue the prompt as given: no chat template.
                json.WriteString("prompt", request.Prompt);
                json.WriteBoolean("raw", true);
            }
            json.WriteBoolean("stream", request.Stream);
            json.WriteNumber("max_tokens", request.MaxTokens);
            SamplingJson.Write(json, request.Sampling, extended: true);
            if (request.Tools is { } tools)
            {
                json.WritePropertyName("tools");
                tools.WriteTo(json);
            }
            if (request.ResponseFormat is { } rf)
            {
                json.WritePropertyName("response_format");
                rf.WriteTo(json);
            }
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public GenerationResult ReadResult(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new UpstreamProtocolException("Workers AI upstream returned a body that is not a JSON object");
        }
        // The REST API wraps the result; a Worker binding returns it bare. Accept both.
        var result = root.TryGetProperty("result", out var r) && r.ValueKind == JsonValueKind.Object ? r : root;
        if (!result.TryGetProperty("response", out var response) && !result.TryGetProperty("tool_calls", out _))
        {
            throw new UpstreamProtocolException("Workers AI upstream result has no 'response'");
        }
        var calls = ReadToolCalls(result);
        return new GenerationResult
        {
            Text = ProtocolJson.TextOf(response),
            Usage = ProtocolJson.ReadUsage(result),
            ToolCalls = calls,
            FinishReason = calls.Count > 0 ? "tool_calls" : "stop",
            Native = result,
        };
    }

    // Workers AI writes arguments as an object (or, from some models, as a JSON string).
    private static List<ToolCall> ReadToolCalls(JsonElement result)
    {
        var calls = new List<ToolCall>();
        if (result.TryGetProperty("tool_calls", out var tc) && tc.ValueKind == JsonValueKind.Array)
        {
            foreach (var call in tc.EnumerateArray())
            {
                var name = ProtocolJson.String(call, "name") ?? "";
                var args = call.TryGetProperty("arguments", out var a) ? (a.ValueKind == JsonValueKind.String ? a.GetString()! : a.GetRawText()) : "{}";
                calls.Add(new ToolCall(null, name, args));
            }
        }
        return calls;
    }

    public IUpstreamStreamReader CreateStreamReader() => new StreamReader();

    public string? ReadErrorMessage(JsonElement root)
    {
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("errors", out var errors)
            && errors.ValueKind == JsonValueKind.Array && errors.GetArrayLength() > 0)
        {
            return ProtocolJson.String(errors[0], "message");
        }
        return null;
    }

    private sealed class StreamReader : IUpstreamStreamReader
    {
        private int _toolCalls;

        // Workers AI events carry no finish reason: only [DONE] ends a stream.
        public bool Ended { get; private set; }

        public StreamDelta? Read(SseEvent sseEvent)
        {
            var data = sseEvent.Data;
            if (data == SseEvent.DoneData)
            {
                Ended = true;
                return new StreamDelta { Done = true, NativeData = data };
            }
            using var doc = ProtocolJson.ParseEvent(data, "Workers AI");
            var root = doc.RootElement;
            if (root.TryGetProperty("errors", out _) || root.TryGetProperty("error", out _))
            {
                throw new UpstreamProtocolException("Workers AI upstream reported an error mid-stream");
            }
            var text = root.TryGetProperty("response", out var r) ? ProtocolJson.TextOf(r) : "";
            var calls = ReadToolCalls(root);
            return new StreamDelta
            {
                Text = text,
                Usage = ProtocolJson.ReadUsage(root),
                ToolCalls = calls,
                ToolCallDeltas = calls.Count == 0 ? [] : calls.Select(c => new ToolCallDelta(_toolCalls++, c.Name, c.Arguments)).ToList(),
                NativeData = data,
            };
        }
    }
}
