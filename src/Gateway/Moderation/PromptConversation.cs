using System.Text.Json;
using Gateway.Errors;
using Gateway.Generation;
using Guard.Conversations;

namespace Gateway.Moderation;

/// <summary>What the checks classify: the whole conversation, not only its last message. Every turn, system and
/// developer instructions and tool results (as user text) and the assistant's earlier tool calls (as agent text,
/// <c>name(arguments)</c>) are mapped by ADR 004; a <c>prompt</c>, raw or not, is classified as the text it is. The
/// response check appends the generated text and tool calls as the judged agent turn.</summary>
internal static class PromptConversation
{
    /// <summary>The guard conversation that judges a validated request's prompt.</summary>
    /// <exception cref="ApiException">A <c>tool_calls</c> entry cannot be read (400), or the messages carry no text.</exception>
    public static GuardConversation From(GenerationRequest request) =>
        Build(Messages(request), request.Messages is null ? "prompt" : "messages");

    /// <summary>The guard conversation that judges a request's prompt, from the messages the context read once.</summary>
    public static GuardConversation From(ModerationContext context) =>
        Build(context.PromptMessages, context.Request.Messages is null ? "prompt" : "messages");

    /// <summary>The guard conversation that judges a response: the prompt's messages, then the assistant's text and
    /// tool calls as the last (judged) turn.</summary>
    /// <param name="prompt">The request's messages for the guard (<see cref="Messages"/>).</param>
    /// <param name="text">The generated text.</param>
    /// <param name="toolCalls">The generated tool calls, in order.</param>
    /// <returns>Null when the response has nothing to judge (no text, no tool call).</returns>
    public static GuardConversation? WithResponse(IReadOnlyList<GuardChatMessage> prompt, string text, IReadOnlyList<GuardToolCall> toolCalls)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (string.IsNullOrWhiteSpace(text) && toolCalls.Count == 0)
        {
            return null;
        }
        var messages = new List<GuardChatMessage>(prompt.Count + 1);
        messages.AddRange(prompt);
        messages.Add(new GuardChatMessage("assistant", text) { ToolCalls = toolCalls.Count > 0 ? toolCalls : null });
        return Build(messages, "response");
    }

    /// <summary>The request's conversation as chat messages: the <c>messages</c> with their tool calls, or the
    /// <c>prompt</c> as one user message.</summary>
    /// <exception cref="ApiException">A <c>tool_calls</c> entry cannot be read (400).</exception>
    public static IReadOnlyList<GuardChatMessage> Messages(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Messages is not { } messages)
        {
            return [new GuardChatMessage("user", request.Prompt ?? string.Empty)];
        }
        var json = request.Document.RootElement.TryGetProperty("messages", out var array) && array.ValueKind == JsonValueKind.Array
            ? array
            : default;
        var chat = new List<GuardChatMessage>(messages.Count);
        for (var i = 0; i < messages.Count; i++)
        {
            IReadOnlyList<GuardToolCall>? calls;
            try
            {
                calls = json.ValueKind == JsonValueKind.Array && i < json.GetArrayLength() ? ToolCallReader.Read(json[i], $"messages[{i}]") : null;
            }
            catch (FormatException ex)
            {
                throw ApiError.InvalidException(ex.Message, $"messages[{i}].tool_calls");
            }
            chat.Add(new GuardChatMessage(messages[i].Role, messages[i].Content) { ToolCalls = calls });
        }
        return chat;
    }

    private static GuardConversation Build(IReadOnlyList<GuardChatMessage> messages, string param)
    {
        try
        {
            return GuardConversation.FromMessages(messages, SystemMessageHandling.MergeIntoUser);
        }
        catch (ArgumentException ex)
        {
            throw ApiError.InvalidException(ex.Message, param);
        }
    }
}
