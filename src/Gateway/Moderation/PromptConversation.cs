using System.Text.Json;
using Gateway.Errors;
using Gateway.Generation;
using Guard.Conversations;

namespace Gateway.Moderation;

/// <summary>What the prompt check classifies: the whole conversation, not only its last message. Every turn, system
/// and developer instructions and tool results (as user text) and the assistant's earlier tool calls (as agent text,
/// <c>name(arguments)</c>) are mapped by ADR 004; a <c>prompt</c>, raw or not, is classified as the text it is.</summary>
internal static class PromptConversation
{
    /// <summary>The guard conversation for a validated request.</summary>
    /// <exception cref="ApiException">A <c>tool_calls</c> entry cannot be read (400), or the messages carry no text.</exception>
    public static GuardConversation From(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Messages is not { } messages)
        {
            return GuardConversation.ForPrompt(request.Prompt ?? string.Empty);
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
        try
        {
            return GuardConversation.FromMessages(chat, SystemMessageHandling.MergeIntoUser);
        }
        catch (ArgumentException ex)
        {
            throw ApiError.InvalidException(ex.Message, "messages");
        }
    }
}
