using Guard.Prompts;

namespace Guard.Conversations;

/// <summary>
/// A normalized conversation for Llama Guard: at least one turn, contents stripped, no empty turns, and no two
/// consecutive turns of the same role (they are merged with a blank line).
/// </summary>
/// <remarks>The whole conversation is classified; <see cref="Role"/>, the last turn's role, is the one judged. A
/// conversation may carry its own <see cref="Taxonomy"/> (a policy's categories), which the engine renders and parses
/// with instead of its own.</remarks>
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

    /// <summary>A copy of <paramref name="source"/>'s turns, already normalized, with another taxonomy.</summary>
    private GuardConversation(GuardConversation source, GuardTaxonomy? taxonomy)
    {
        Turns = source.Turns;
        Taxonomy = taxonomy;
    }

    /// <summary>The normalized turns, oldest first; never empty.</summary>
    public IReadOnlyList<GuardTurn> Turns { get; }

    /// <summary>The role being classified: the role of the last turn.</summary>
    public GuardRole Role => Turns[^1].Role;

    /// <summary>
    /// The categories to ask about and to read the answer against for this conversation; <see langword="null"/> (the
    /// default) uses the engine's own taxonomy.
    /// </summary>
    /// <remarks>It must be built for the engine's family (or for none, <see cref="GuardTaxonomy.Create"/>); an engine
    /// refuses a taxonomy of another family with an <see cref="ArgumentException"/>.</remarks>
    public GuardTaxonomy? Taxonomy { get; private init; }

    /// <summary>A copy with the same turns that is classified against <paramref name="taxonomy"/>.</summary>
    /// <param name="taxonomy">The taxonomy, or <see langword="null"/> for the engine's own.</param>
    /// <returns>The copy; this conversation is unchanged.</returns>
    public GuardConversation WithTaxonomy(GuardTaxonomy? taxonomy) => new(this, taxonomy);

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

    /// <summary>A copy holding the given turns, which are already normalized, and this conversation's taxonomy (used by truncation).</summary>
    /// <param name="turns">The turns, oldest first.</param>
    internal GuardConversation FromNormalized(IReadOnlyList<GuardTurn> turns) => new(turns, nameof(turns)) { Taxonomy = Taxonomy };
}
