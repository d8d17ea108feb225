using System.Runtime.InteropServices;
using System.Text.Json;
using Gateway.Generation;
using Gateway.Sse;
using Gateway.Upstreams;

namespace Gateway.Formatting;

/// <summary>Workers AI shapes: <c>{"response":...}</c> on <c>/ai/run</c>, the REST envelope on <c>/client/v4/...</c>,
/// and <c>data: {"response":"..."}</c> ... <c>data: [DONE]</c> streams.</summary>
internal sealed class WorkersAiFormatter : IClientFormatter
{
    public static WorkersAiFormatter Instance { get; } = new();

    public byte[] FormatResult(GenerationRequest request, GenerationResult result, bool native)
    {
        if (native && result.Native is { } bare && request.Api != ClientApi.WorkersAiRest)
        {
            // The upstream's own bytes of its result object, not parsed and written again.
            return JsonMarshal.GetRawUtf8Value(bare).ToArray();
        }
        return Build(request, result, native);
    }

    private static byte[] Build(GenerationRequest request, GenerationResult result, bool native) => JsonText.Bytes(json =>
    {
        var envelope = request.Api == ClientApi.WorkersAiRest;
        if (envelope)
        {
            json.WriteStartObject();
            json.WritePropertyName("result");
        }
        if (native && result.Native is { } raw)
        {
            // The upstream's own bytes (already parsed, so valid JSON), not written again token by token.
            json.WriteRawValue(JsonMarshal.GetRawUtf8Value(raw), skipInputValidation: true);
        }
        else
        {
            WriteResultObject(json, result);
        }
        if (envelope)
        {
            json.WriteBoolean("success", true);
            json.WriteStartArray("errors");
            json.WriteEndArray();
            json.WriteStartArray("messages");
            json.WriteEndArray();
            json.WriteEndObject();
        }
    });

    private static void WriteResultObject(Utf8JsonWriter json, GenerationResult result)
    {
        json.WriteStartObject();
        json.WriteString("response", result.Text);
        if (result.ToolCalls.Count > 0)
        {
            WriteToolCalls(json, result.ToolCalls);
        }
        if (result.Usage is { } usage)
        {
            JsonText.WriteUsage(json, usage);
        }
        json.WriteEndObject();
    }

    private static void WriteToolCalls(Utf8JsonWriter json, IReadOnlyList<ToolCall> calls)
    {
        json.WriteStartArray("tool_calls");
        foreach (var call in calls)
        {
            json.WriteStartObject();
            json.WriteString("name", call.Name);
            JsonText.WriteArgumentsObject(json, call.Arguments);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    public IClientStreamFormatter CreateStream(GenerationRequest request, bool native) => new Stream(native);

    private sealed class Stream(bool native) : IClientStreamFormatter
    {
        private Usage? _usage;
        private readonly List<ToolCall> _toolCalls = [];

        public void OnDelta(StreamDelta delta, List<string> output)
        {
            if (native)
            {
                if (!delta.Done && delta.NativeData is { } data)
                {
                    output.Add(data);
                }
                return;
            }
            _usage = delta.Usage ?? _usage;
            _toolCalls.AddRange(delta.ToolCalls);
            if (delta.Text.Length > 0)
            {
                output.Add(JsonText.String(json =>
                {
                    json.WriteStartObject();
                    json.WriteString("response", delta.Text);
                    json.WriteEndObject();
                }));
            }
        }

        public void OnEnd(List<string> output)
        {
            if (!native && (_usage is not null || _toolCalls.Count > 0))
            {
                output.Add(JsonText.String(json =>
                {
                    json.WriteStartObject();
                    json.WriteString("response", "");
                    if (_toolCalls.Count > 0)
                    {
                        WriteToolCalls(json, _toolCalls);
                    }
                    if (_usage is { } usage)
                    {
                        JsonText.WriteUsage(json, usage);
                    }
                    json.WriteEndObject();
                }));
            }
            output.Add(SseEvent.DoneData);
        }

        // Workers AI has no finish reason: a cut stream ends with an error event (code 2017).
        public bool TryWriteContentFilter(bool started, List<string> output) => false;
    }
}
