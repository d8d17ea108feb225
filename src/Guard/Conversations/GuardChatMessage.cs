namespace Guard.Conversations;

/// <summary>A chat message as a client sent it, before it is mapped to Llama Guard's two roles.</summary>
/// <param name="Role"><c>system</c>, <c>developer</c>, <c>user</c>, <c>assistant</c>, <c>tool</c> or <c>function</c>.</param>
/// <param name="Content">The text, or <see langword="null"/> (an assistant message that only calls tools).</param>
public sealed record GuardChatMessage(string Role, string? Content)
{
    /// <summary>The tool calls of an assistant message, in order.</summary>
    public IReadOnlyList<GuardToolCall>? ToolCalls { get; init; }
}
