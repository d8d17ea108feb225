using System.Buffers;
using System.Text;
using System.Text.Json;
using Gateway.Errors;
using Gateway.Generation;
using Gateway.Sse;

namespace Gateway.Upstreams;

/// <summary>The OpenAI-compatible protocol (vLLM, Ollama, llama.cpp server): OpenAI requests are forwarded as is
/// (with the model renamed when the catalog says so); Workers AI requests are translated, <c>raw: true</c> prompts to
/// <c>/v1/completions</c> untouched and everything else to <c>/v1/chat/completions</c>.</summary>
internal sealed class OpenAiProtocol(UpstreamKind kind = UpstreamKind.OpenAi) : IUpstreamProtocol
{
    public UpstreamKind Kind { get; } = kind;

    public UpstreamRequest Prepare(GenerationRequest request, UpstreamOptions options)
    {
        var basePath = (options.BasePath ?? "").TrimEnd('/');
        var completions = request.Api == ClientApi.OpenAiCompletions || (request.Api.IsWorkersAi() && request.Raw && request.Prompt is not null);
        var path = basePath + (completions ? "/v1/completions" : "/v1/chat/completions");
        if (!request.Api.IsWorkersAi())
        {
            return new UpstreamRequest(path, request.Model.UpstreamModel == request.Model.Id ? request.Body : RenameModel(request));
        }
        if (request.Functions is not null)
        {
            throw ApiError.InvalidException("'functions' (embedded function calling) cannot be sent to an OpenAI-compatible upstream; use 'tools'.", "functions");
        }
        return new UpstreamRequest(path, Translate(request, options, completions));
    }

    private static byte[] RenameModel(GenerationRequest request)
    {
        var buffer = new ArrayBufferWriter<byte>(request.Body.Length + 64);
        using (var json = new Utf8JsonWriter(buffer, Formatting.JsonText.WriterOptions))
        {
            json.WriteStartObject();
            foreach (var property in request.Document.RootElement.EnumerateObject())
            {
                if (property.NameEquals("model"))
                {
                    json.WriteString("model", request.Model.UpstreamModel);
                }
                else
                {
                    property.WriteTo(json);
                }
            }
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Translate(GenerationRequest request, UpstreamOptions options, bool completions)
    {
        var model = request.Lora is { } lora
            ? options.LoraModelFormat.Replace("{model}", request.Model.UpstreamModel, StringComparison.Ordinal).Replace("{lora}", lora, StringComparison.Ordinal)
            : request.Model.UpstreamModel;
        var buffer = new ArrayBufferWriter<byte>(request.Body.Length + 256);
        using (var json = new Utf8JsonWriter(buffer, Formatting.JsonText.WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("model", model);
            if (completions)
            {
                json.WriteString("prompt", request.Prompt);
            }
            else
            {
                json.WriteStartArray("messages");
                foreach (var m in request.Messages ?? [new ChatMessage("user", request.Prompt!)])
                {
                    json.WriteStartObject();
                    json.WriteString("role", m.Role);
                    json.WriteString("content", m.Content);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
            }
            json.WriteNumber("max_tokens", request.MaxTokens);
            SamplingJson.Write(json, request.Sampling, options.ExtendedSampling);
            if (request.Tools is { } tools)
            {
                WriteTools(json, tools);
            }
            if (request.ResponseFormat is { } rf)
            {
                WriteResponseFormat(json, rf);
            }
            json.WriteBoolean("stream", request.Stream);
            if (request.Stream)
            {
                // Workers AI clients get usage at the end of the stream; ask for it.
                json.WriteStartObject("stream_options");
                json.WriteBoolean("include_usage", true);
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteTools(Utf8JsonWriter json, JsonElement tools)
    {
        json.WriteStartArray("tools");
        foreach (var tool in tools.EnumerateArray())
        {
            if (tool.TryGetProperty("function", out _))
            {
                tool.WriteTo(json);
                continue;
            }
            // The flat Workers AI form {name, description, parameters} becomes {type: function, function: {...}}.
            json.WriteStartObject();
            json.WriteString("type", "function");
            json.WritePropertyName("function");
            tool.WriteTo(json);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static void WriteResponseFormat(Utf8JsonWriter json, JsonElement rf)
    {
        // Workers AI puts the schema itself under json_schema; OpenAI wants {name, schema}.
        if (ProtocolJson.String(rf, "type") == "json_schema" && rf.TryGetProperty("json_schema", out var schema)
            && !(schema.ValueKind == JsonValueKind.Object && schema.TryGetProperty("schema", out _)))
        {
            json.WriteStartObject("response_format");
            json.WriteString("type", "json_schema");
            json.WriteStartObject("json_schema");
            json.WriteString("name", "response");
            json.WritePropertyName("schema");
            schema.WriteTo(json);
            json.WriteEndObject();
            json.WriteEndObject();
            return;
        }
        json.WritePropertyName("response_format");
        rf.WriteTo(json);
    }

    public GenerationResult ReadResult(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("choices", out var choices)
            || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
        {
            throw new UpstreamProtocolException("OpenAI-compatible upstream returned no 'choices'");
        }
        var choice = choices[0];
        string text;
        var calls = new List<ToolCall>();
        if (choice.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
        {
            text = message.TryGetProperty("content", out var c) ? ProtocolJson.TextOf(c) : "";
            if (message.TryGetProperty("tool_calls", out var tc) && tc.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in tc.EnumerateArray())
                {
                    var fn = call.TryGetProperty("function", out var f) ? f : default;
                    calls.Add(new ToolCall(ProtocolJson.String(call, "id"), ProtocolJson.String(fn, "name") ?? "",
                        ProtocolJson.String(fn, "arguments") ?? "{}"));
                }
            }
        }
        else
        {
            text = choice.TryGetProperty("text", out var t) ? ProtocolJson.TextOf(t) : throw new UpstreamProtocolException("OpenAI-compatible choice has neither 'message' nor 'text'");
        }
        return new GenerationResult
        {
            Text = text,
            Usage = ProtocolJson.ReadUsage(root),
            ToolCalls = calls,
            FinishReason = ProtocolJson.String(choice, "finish_reason"),
            Native = root,
        };
    }

    public IUpstreamStreamReader CreateStreamReader() => new StreamReader();

    public string? ReadErrorMessage(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        if (root.TryGetProperty("error", out var error))
        {
            return error.ValueKind == JsonValueKind.String ? error.GetString() : ProtocolJson.String(error, "message");
        }
        // vLLM: {"object":"error","message":...}; FastAPI validation: {"detail": ...}.
        return ProtocolJson.String(root, "message") ?? (root.TryGetProperty("detail", out var d) ? ProtocolJson.TextOf(d) : null);
    }

    private sealed class StreamReader : IUpstreamStreamReader
    {
        private readonly SortedDictionary<int, (string? Id, string Name, StringBuilder Args)> _calls = [];

        public bool Ended { get; private set; }

        public StreamDelta? Read(SseEvent sseEvent)
        {
            var data = sseEvent.Data;
            if (data == SseEvent.DoneData)
            {
                Ended = true;
                return new StreamDelta { Done = true, NativeData = data };
            }
            using var doc = ProtocolJson.ParseEvent(data, "OpenAI-compatible");
            var root = doc.RootElement;
            if (root.TryGetProperty("error", out _))
            {
                throw new UpstreamProtocolException("OpenAI-compatible upstream reported an error mid-stream");
            }
            var text = "";
            string? finish = null;
            IReadOnlyList<ToolCallDelta> fragments = [];
            if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
            {
                var choice = choices[0];
                if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
                {
                    text = delta.TryGetProperty("content", out var c) ? ProtocolJson.TextOf(c) : "";
                    if (delta.TryGetProperty("tool_calls", out var tc) && tc.ValueKind == JsonValueKind.Array)
                    {
                        fragments = Accumulate(tc);
                    }
                }
                else if (choice.TryGetProperty("text", out var t))
                {
                    text = ProtocolJson.TextOf(t);
                }
                finish = ProtocolJson.String(choice, "finish_reason");
            }
            Ended |= finish is not null;
            IReadOnlyList<ToolCall> completed = [];
            if (finish is not null && _calls.Count > 0)
            {
                completed = _calls.Values.Select(c => new ToolCall(c.Id, c.Name, c.Args.ToString())).ToList();
                _calls.Clear();
            }
            return new StreamDelta
            {
                Text = text,
                FinishReason = finish,
                Usage = ProtocolJson.ReadUsage(root),
                ToolCalls = completed,
                ToolCallDeltas = fragments,
                NativeData = data,
            };
        }

        private List<ToolCallDelta> Accumulate(JsonElement fragments)
        {
            var added = new List<ToolCallDelta>(fragments.GetArrayLength());
            foreach (var fragment in fragments.EnumerateArray())
            {
                var index = fragment.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : 0;
                var fn = fragment.TryGetProperty("function", out var f) ? f : default;
                if (!_calls.TryGetValue(index, out var call))
                {
                    call = (null, "", new StringBuilder());
                }
                var name = ProtocolJson.String(fn, "name");
                var arguments = ProtocolJson.String(fn, "arguments");
                call = (ProtocolJson.String(fragment, "id") ?? call.Id, call.Name + (name ?? ""), call.Args);
                call.Args.Append(arguments);
                _calls[index] = call;
                added.Add(new ToolCallDelta(index, name, arguments));
            }
            return added;
        }
    }
}
