namespace Guard.Conversations;

/// <summary>
/// A normalized conversation for Llama Guard: at least one turn, contents stripped, no empty turns, and no two
/// consecutive turns of the same role (they are merged with a blank line).
/// </summary>
/// <remarks>The whole conversation is classified; <see cref="Role"/>, the last turn's role, is the one judged.</remarks>
public sealed class GuardConversation
{
    /// <summary>Separates merged same-role turns: the blank line the templates use between turns.</summary>
    internal const string MergeSeparator = "\n\n";

    /// <summary>Creates a conversation from turns, stripping, dropping empty turns and merging same-role neighbours.</summary>
    /// <param name="turns">The turns, oldest first.</param>
    /// <exception cref="ArgumentException">No turn has any text.</exception>
    public GuardConversation(IEnumerable<GuardTurn> turns)
        : this(turns, nameof(turns))
    {
    }

    internal GuardConversation(IEnumerable<GuardTurn> turns, string paramName)
    {
        ArgumentNullException.ThrowIfNull(turns, paramName);
        var normalized = new List<GuardTurn>();
        var any = false;
        foreach (var turn in turns)
        {
            if (turn is null)
            {
                throw new ArgumentException($"'{paramName}' contains a null turn.", paramName);
            }

            any = true;
            var content = PythonText.Strip(turn.Content ?? string.Empty);
            if (content.Length == 0)
            {
                continue;
            }

            if (normalized.Count > 0 && normalized[^1].Role == turn.Role)
            {
                normalized[^1] = normalized[^1] with { Content = normalized[^1].Content + MergeSeparator + content };
            }
            else
            {
                normalized.Add(new GuardTurn(turn.Role, content));
            }
        }

        if (normalized.Count == 0)
        {
            throw new ArgumentException(
                any
                    ? $"'{paramName}' has no text: every content is empty or whitespace. A guard check needs at least one non-empty message."
                    : $"'{paramName}' is empty. A guard check needs at least one non-empty message.",
                paramName);
        }

        Turns = normalized;
    }

    /// <summary>The normalized turns, oldest first; never empty.</summary>
    public IReadOnlyList<GuardTurn> Turns { get; }

    /// <summary>The role being classified: the role of the last turn.</summary>
    public GuardRole Role => Turns[^1].Role;

    /// <summary>A one-turn conversation that classifies a user prompt.</summary>
    /// <param name="prompt">The user's text.</param>
    public static GuardConversation ForPrompt(string prompt) =>
        new([new GuardTurn(GuardRole.User, prompt)], nameof(prompt));

    /// <summary>A two-turn conversation that classifies an assistant response to a user prompt.</summary>
    /// <param name="prompt">The user's text.</param>
    /// <param name="response">The assistant's text, the turn being judged.</param>
    /// <exception cref="ArgumentException"><paramref name="response"/> is empty.</exception>
    public static GuardConversation ForResponse(string prompt, string response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (PythonText.Strip(response).Length == 0)
        {
            throw new ArgumentException("'response' is empty: there is no assistant text to classify.", nameof(response));
        }

        return new([new GuardTurn(GuardRole.User, prompt ?? string.Empty), new GuardTurn(GuardRole.Agent, response)], nameof(prompt));
    }

    /// <summary>Maps chat messages to a guard conversation by the rules of ADR 004.</summary>
    /// <param name="messages">The chat, oldest first.</param>
    /// <param name="systemMessages">What to do with <c>system</c> and <c>developer</c> messages.</param>
    /// <exception cref="ArgumentException">The chat is empty, has no text, or has an unknown role; the message names <c>messages</c>.</exception>
    public static GuardConversation FromMessages(
        IEnumerable<GuardChatMessage> messages,
        SystemMessageHandling systemMessages = SystemMessageHandling.MergeIntoUser) =>
        new(ChatMessageMapper.Map(messages, systemMessages, nameof(messages)), nameof(messages));

    /// <summary>A copy holding the given turns, which are already normalized (used by truncation).</summary>
    internal static GuardConversation FromNormalized(IReadOnlyList<GuardTurn> turns) => new(turns, nameof(turns));
}
