using System.Text;

namespace Guard.Conversations;

/// <summary>Maps OpenAI-style chat roles onto Llama Guard's User and Agent (the rules are in ADR 004).</summary>
internal static class ChatMessageMapper
{
    private static readonly string[] KnownRoles = ["user", "assistant", "system", "developer", "tool", "function"];

    /// <summary>Returns one turn per message that carries text; merging and stripping happen in the conversation.</summary>
    public static List<GuardTurn> Map(IEnumerable<GuardChatMessage> messages, SystemMessageHandling systemMessages, string paramName)
    {
        ArgumentNullException.ThrowIfNull(messages, paramName);
        var turns = new List<GuardTurn>();
        var index = 0;
        foreach (var message in messages)
        {
            if (message is null)
            {
                throw new ArgumentException($"'{paramName}[{index}]' is null.", paramName);
            }

            var turn = MapOne(message, systemMessages, $"{paramName}[{index}]", paramName);
            if (turn is not null)
            {
                turns.Add(turn);
            }

            index++;
        }

        return turns;
    }

    private static GuardTurn? MapOne(GuardChatMessage message, SystemMessageHandling systemMessages, string at, string paramName)
    {
        switch (Canonical(message.Role))
        {
            case "user":
                return new GuardTurn(GuardRole.User, message.Content ?? string.Empty);
            case "system":
            case "developer":
                // Client-controlled instructions are input to the model: judged as user text, never silently dropped.
                return systemMessages == SystemMessageHandling.Drop
                    ? null
                    : new GuardTurn(GuardRole.User, message.Content ?? string.Empty);
            case "tool":
            case "function":
                // A tool result is input the model will read next (and a prompt-injection path), so it is user text.
                return new GuardTurn(GuardRole.User, message.Content ?? string.Empty);
            case "assistant":
                return new GuardTurn(GuardRole.Agent, RenderAssistant(message));
            default:
                throw new ArgumentException(
                    $"'{at}.role' is '{message.Role}', which is not a chat role; use system, developer, user, assistant, tool or function.",
                    paramName);
        }
    }

    private static string? Canonical(string? role)
    {
        foreach (var known in KnownRoles)
        {
            if (string.Equals(role?.Trim(), known, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return null;
    }

    /// <summary>The assistant's text, then one <c>name(arguments)</c> line per tool call.</summary>
    internal static string RenderAssistant(GuardChatMessage message)
    {
        if (message.ToolCalls is not { Count: > 0 } calls)
        {
            return message.Content ?? string.Empty;
        }

        var text = new StringBuilder();
        var content = PythonText.Strip(message.Content ?? string.Empty);
        if (content.Length > 0)
        {
            text.Append(content);
        }

        foreach (var call in calls)
        {
            if (call is null)
            {
                continue;
            }

            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append(call.Name).Append('(').Append(call.Arguments?.Trim()).Append(')');
        }

        return text.ToString();
    }
}
