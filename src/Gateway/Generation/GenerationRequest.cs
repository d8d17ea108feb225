using System.Text.Json;
using Gateway.Catalog;

namespace Gateway.Generation;

/// <summary>A validated text-generation request, normalized from whichever API surface it came through.</summary>
/// <remarks>Owns the parsed <see cref="JsonDocument"/>; dispose it when the request ends.</remarks>
public sealed class GenerationRequest : IDisposable
{
    /// <summary>The surface the client called.</summary>
    public required ClientApi Api { get; init; }

    /// <summary>The catalog entry of the requested model.</summary>
    public required ModelInfo Model { get; init; }

    /// <summary>The request body as the client sent it; on the Workers AI surface, <c>"true"</c>/<c>"false"</c> strings in
    /// boolean fields are rewritten as JSON booleans (<see cref="Document"/> keeps the original).</summary>
    public required ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The parsed body.</summary>
    public required JsonDocument Document { get; init; }

    /// <summary>The unscoped prompt, when the request has one.</summary>
    public string? Prompt { get; init; }

    /// <summary>The conversation, when the request has one.</summary>
    public IReadOnlyList<ChatMessage>? Messages { get; init; }

    /// <summary>Whether the prompt must reach the model without a chat template.</summary>
    public bool Raw { get; init; }

    /// <summary>Whether the client asked for SSE.</summary>
    public bool Stream { get; init; }

    /// <summary>Tokens to generate, after catalog defaults.</summary>
    public int MaxTokens { get; init; }

    /// <summary>Whether <see cref="MaxTokens"/> came from the request rather than a default.</summary>
    public bool MaxTokensGiven { get; init; }

    /// <summary>Sampling parameters as given.</summary>
    public SamplingParameters Sampling { get; init; } = new();

    /// <summary>The LoRA adapter name or id.</summary>
    public string? Lora { get; init; }

    /// <summary>Tool definitions, as sent.</summary>
    public JsonElement? Tools { get; init; }

    /// <summary>Workers AI <c>functions</c>, as sent.</summary>
    public JsonElement? Functions { get; init; }

    /// <summary>OpenAI <c>tool_choice</c>, as sent.</summary>
    public JsonElement? ToolChoice { get; init; }

    /// <summary>JSON mode settings, as sent.</summary>
    public JsonElement? ResponseFormat { get; init; }

    /// <summary>Stop sequences, as sent (OpenAI).</summary>
    public JsonElement? Stop { get; init; }

    /// <summary>Whether an OpenAI client asked for a usage chunk at the end of the stream.</summary>
    public bool IncludeStreamUsage { get; init; }

    /// <summary>The account id in the client's path (REST surface); never forwarded, the upstream's own is used.</summary>
    public string? AccountId { get; init; }

    /// <inheritdoc />
    public void Dispose() => Document.Dispose();
}

/// <summary>One conversation turn, with its content as plain text.</summary>
/// <param name="Role">system, user, assistant, tool (or developer/function on the OpenAI surface).</param>
/// <param name="Content">The text; parts of an OpenAI multi-part content are joined.</param>
public sealed record ChatMessage(string Role, string Content);

/// <summary>Optional sampling parameters shared by both surfaces.</summary>
public sealed record SamplingParameters
{
    /// <summary><c>temperature</c>.</summary>
    public double? Temperature { get; init; }

    /// <summary><c>top_p</c>.</summary>
    public double? TopP { get; init; }

    /// <summary><c>top_k</c>.</summary>
    public int? TopK { get; init; }

    /// <summary><c>seed</c>.</summary>
    public long? Seed { get; init; }

    /// <summary><c>repetition_penalty</c>.</summary>
    public double? RepetitionPenalty { get; init; }

    /// <summary><c>frequency_penalty</c>.</summary>
    public double? FrequencyPenalty { get; init; }

    /// <summary><c>presence_penalty</c>.</summary>
    public double? PresencePenalty { get; init; }
}
