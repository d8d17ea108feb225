using System.Text.Json;

namespace Gateway.Upstreams;

/// <summary>Token counts reported by an upstream.</summary>
public sealed record Usage(int PromptTokens, int CompletionTokens, int TotalTokens);

/// <summary>A tool call requested by the model; <see cref="Arguments"/> is the JSON text of the arguments object.</summary>
public sealed record ToolCall(string? Id, string Name, string Arguments);

/// <summary>A piece of a streamed tool call: the call's position, and the text added to its name and arguments.</summary>
public sealed record ToolCallDelta(int Index, string? Name, string? Arguments);

/// <summary>A complete, non-streamed generation, read from either upstream protocol.</summary>
public sealed class GenerationResult
{
    /// <summary>The generated text.</summary>
    public required string Text { get; init; }

    /// <summary>Token counts, when reported.</summary>
    public Usage? Usage { get; init; }

    /// <summary>Tool calls, when the model made any.</summary>
    public IReadOnlyList<ToolCall> ToolCalls { get; init; } = [];

    /// <summary>Why generation stopped (<c>stop</c>, <c>length</c>, <c>tool_calls</c>), when reported.</summary>
    public string? FinishReason { get; init; }

    /// <summary>The upstream's own result JSON, relayed unchanged when the client speaks the same protocol:
    /// the Workers AI <c>result</c> object, or the whole OpenAI completion object.</summary>
    public JsonElement? Native { get; init; }
}

/// <summary>One upstream stream event, read from either protocol.</summary>
public sealed class StreamDelta
{
    /// <summary>Text added by this event (may be empty).</summary>
    public string Text { get; init; } = "";

    /// <summary>Finish reason, on the event that ends the choice.</summary>
    public string? FinishReason { get; init; }

    /// <summary>Token counts, on the event that carries them.</summary>
    public Usage? Usage { get; init; }

    /// <summary>Tool calls completed in this event (Workers AI) or fragments of them (OpenAI, merged by the reader).</summary>
    public IReadOnlyList<ToolCall> ToolCalls { get; init; } = [];

    /// <summary>What this event adds to the tool calls (OpenAI argument fragments, or whole Workers AI calls), as the
    /// guard judges them while the stream is still running.</summary>
    public IReadOnlyList<ToolCallDelta> ToolCallDeltas { get; init; } = [];

    /// <summary>The event's data exactly as received, relayed unchanged when the client speaks the same protocol.</summary>
    public string? NativeData { get; init; }

    /// <summary>Whether this is the end-of-stream marker (<c>[DONE]</c>).</summary>
    public bool Done { get; init; }
}
