using System.Text;
using Guard.Conversations;

namespace Guard.Prompts;

/// <summary>
/// Renders conversations into the exact prompt one Llama Guard generation was trained on, for one taxonomy.
/// Immutable and thread-safe; the fixed prefix and suffix are built once per role.
/// </summary>
public sealed class LlamaGuardPromptRenderer
{
    private readonly string[] _prefixes;
    private readonly string[] _suffixes;
    private readonly PromptSegment[][] _prefixSegments;
    private readonly PromptSegment[][] _suffixSegments;

    /// <summary>Creates a renderer.</summary>
    /// <param name="family">The Llama Guard generation.</param>
    /// <param name="taxonomy">The categories to list; <see langword="null"/> uses the family's defaults.</param>
    public LlamaGuardPromptRenderer(GuardFamily family, GuardTaxonomy? taxonomy = null)
    {
        if (!Enum.IsDefined(family))
        {
            throw new ArgumentOutOfRangeException(nameof(family), family, "Unknown Llama Guard family.");
        }

        Taxonomy = taxonomy ?? GuardTaxonomy.ForFamily(family);
        Family = family;
        GuardRole[] roles = [GuardRole.User, GuardRole.Agent];
        _prefixSegments = [.. roles.Select(r => PromptLayout.Prefix(family, Taxonomy, r).ToArray())];
        _suffixSegments = [.. roles.Select(r => PromptLayout.Suffix(family, r).ToArray())];
        _prefixes = [.. _prefixSegments.Select(s => string.Concat(s.Select(p => p.Text)))];
        _suffixes = [.. _suffixSegments.Select(s => string.Concat(s.Select(p => p.Text)))];
    }

    /// <summary>The Llama Guard generation.</summary>
    public GuardFamily Family { get; }

    /// <summary>The categories written into every prompt.</summary>
    public GuardTaxonomy Taxonomy { get; }

    /// <summary>The fixed text before the conversation when <paramref name="role"/> is classified (cached).</summary>
    /// <param name="role">The role being classified; it is named in the task line.</param>
    public string GetPrefix(GuardRole role) => _prefixes[Index(role)];

    /// <summary>The fixed text after the conversation when <paramref name="role"/> is classified (cached).</summary>
    /// <param name="role">The role being classified; it is named in the closing line.</param>
    public string GetSuffix(GuardRole role) => _suffixes[Index(role)];

    /// <summary>The prefix as segments, control tokens separate (cached).</summary>
    /// <param name="role">The role being classified.</param>
    public IReadOnlyList<PromptSegment> GetPrefixSegments(GuardRole role) => _prefixSegments[Index(role)];

    /// <summary>The suffix as segments, control tokens separate (cached).</summary>
    /// <param name="role">The role being classified.</param>
    public IReadOnlyList<PromptSegment> GetSuffixSegments(GuardRole role) => _suffixSegments[Index(role)];

    /// <summary>The conversation part: each turn as <c>Label: stripped text</c> and a blank line, oldest first.</summary>
    /// <param name="conversation">The conversation.</param>
    public static string RenderConversation(GuardConversation conversation)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        return RenderTurns(conversation.Turns, 0, conversation.Turns.Count);
    }

    /// <summary>Renders the whole conversation; the role classified is the last turn's.</summary>
    /// <param name="conversation">The conversation.</param>
    public RenderedPrompt Render(GuardConversation conversation) => Render(conversation, truncated: false);

    /// <summary>
    /// Renders the conversation within <paramref name="maxPromptTokens"/>, truncating it by ADR 004's rule when the
    /// whole prompt (prefix, conversation and suffix, each counted with <paramref name="countTokens"/>) would not fit.
    /// </summary>
    /// <param name="conversation">The conversation.</param>
    /// <param name="maxPromptTokens">The most tokens the prompt may have.</param>
    /// <param name="countTokens">Counts the tokens of a piece of plain text (no BOS).</param>
    /// <exception cref="ArgumentOutOfRangeException">The budget cannot hold the fixed text and a piece of the last turn.</exception>
    public RenderedPrompt Render(GuardConversation conversation, int maxPromptTokens, Func<string, int> countTokens)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(countTokens);
        var role = conversation.Role;
        var fixedTokens = countTokens(GetPrefix(role)) + countTokens(GetSuffix(role));
        if (maxPromptTokens <= fixedTokens)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxPromptTokens),
                maxPromptTokens,
                $"The prompt's fixed text for {Family}/{role} takes {fixedTokens} tokens, leaving no room for the conversation; raise the limit.");
        }

        var fit = Fit(conversation, maxPromptTokens - fixedTokens, countTokens);
        return Render(fit.Conversation, fit.Truncated);
    }

    /// <summary>
    /// Fits a conversation into a token budget for its rendered conversation part: drops whole turns, oldest first,
    /// always keeping the last; then, if the last turn alone is too long, cuts the start of its text, keeping the end.
    /// </summary>
    /// <param name="conversation">The conversation.</param>
    /// <param name="maxConversationTokens">The most tokens <see cref="RenderConversation"/> may produce.</param>
    /// <param name="countTokens">Counts the tokens of a piece of plain text (no BOS).</param>
    /// <exception cref="ArgumentOutOfRangeException">Not even one character of the last turn fits.</exception>
    public static TruncatedConversation Fit(GuardConversation conversation, int maxConversationTokens, Func<string, int> countTokens)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        ArgumentNullException.ThrowIfNull(countTokens);
        return PromptTruncator.Fit(conversation, maxConversationTokens, countTokens);
    }

    /// <summary>Renders turns <c>[start, end)</c> of a conversation.</summary>
    internal static string RenderTurns(IReadOnlyList<GuardTurn> turns, int start, int end)
    {
        var text = new StringBuilder();
        for (var i = start; i < end; i++)
        {
            AppendTurn(text, turns[i].Role, turns[i].Content);
        }

        return text.ToString();
    }

    /// <summary>One turn: <c>Label: </c>, the stripped text, a blank line.</summary>
    internal static StringBuilder AppendTurn(StringBuilder text, GuardRole role, string content) =>
        text.Append(PromptLayout.Label(role)).Append(": ").Append(PythonText.Strip(content)).Append("\n\n");

    private static int Index(GuardRole role) => role switch
    {
        GuardRole.User => 0,
        GuardRole.Agent => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "Unknown guard role."),
    };

    private RenderedPrompt Render(GuardConversation conversation, bool truncated)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var role = conversation.Role;
        var body = RenderConversation(conversation);
        var prefix = _prefixSegments[Index(role)];
        var suffix = _suffixSegments[Index(role)];
        var segments = new PromptSegment[prefix.Length + 1 + suffix.Length];
        prefix.CopyTo(segments, 0);
        segments[prefix.Length] = new PromptSegment(body, false);
        suffix.CopyTo(segments, prefix.Length + 1);
        return new RenderedPrompt(Family, role, GetPrefix(role), body, GetSuffix(role), segments, truncated);
    }
}
