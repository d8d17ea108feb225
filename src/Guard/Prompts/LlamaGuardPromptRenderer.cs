using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Guard.Conversations;

namespace Guard.Prompts;

/// <summary>
/// Renders conversations into the exact prompt one Llama Guard generation was trained on, for one taxonomy.
/// Immutable and thread-safe; the fixed prefix and suffix are built once per role.
/// </summary>
public sealed class LlamaGuardPromptRenderer
{
    /// <summary>The version of the format digest's rule, written into every digest.</summary>
    public const int FormatDigestVersion = 1;

    // Renderers behind the static GetFormatDigest, by family and taxonomy; cleared when it grows past this many.
    private const int FormatRendererCapacity = 64;
    private static readonly ConcurrentDictionary<(GuardFamily Family, GuardTaxonomy Taxonomy), LlamaGuardPromptRenderer> FormatRenderers = new();

    private readonly string?[] _formatDigests = new string?[2];
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

    /// <summary>
    /// A digest of everything this renderer puts into a prompt for <paramref name="role"/> except the conversation, and
    /// of the category table verdicts are resolved against: equal for equal family, taxonomy and role, different when
    /// any of them changes the prompt or a verdict. Computed on first use, then a field read.
    /// </summary>
    /// <remarks>
    /// The SHA-256, in lowercase hex, of the UTF-8 records <c>&lt;tag&gt;&lt;byte length&gt;:&lt;text&gt;</c> in this order:
    /// <c>V</c> the rule's version (<see cref="FormatDigestVersion"/>), <c>F</c> the family's name, <c>R</c> the role's
    /// name; each prefix segment (<see cref="GetPrefixSegments"/>) as <c>S</c> if it is a control token, else <c>T</c>;
    /// <c>C</c> with empty text where the conversation goes; each suffix segment (<see cref="GetSuffixSegments"/>) the
    /// same way; then for each category in order <c>K</c> its code, <c>N</c> its name, <c>D</c> its description and,
    /// only when it has one, <c>H</c> its explicit heading. For example <c>F11:LlamaGuard1</c>.
    /// </remarks>
    /// <param name="role">The role being classified.</param>
    /// <returns>64 lowercase hex digits.</returns>
    public string GetFormatDigest(GuardRole role)
    {
        var index = Index(role);
        var digest = Volatile.Read(ref _formatDigests[index]);
        if (digest is null)
        {
            // Two threads may both compute it; they compute the same string.
            digest = ComputeFormatDigest(role);
            Volatile.Write(ref _formatDigests[index], digest);
        }

        return digest;
    }

    /// <summary>
    /// The format digest (<see cref="GetFormatDigest(GuardRole)"/>) of a family and taxonomy without an engine. The
    /// digest is kept with the taxonomy instance, so later calls with it are an array read; an equal taxonomy instance
    /// finds the renderer made for the first in a small bounded dictionary.
    /// </summary>
    /// <param name="family">The Llama Guard generation.</param>
    /// <param name="taxonomy">The categories; <see langword="null"/> for the family's defaults.</param>
    /// <param name="role">The role being classified.</param>
    /// <returns>64 lowercase hex digits.</returns>
    /// <exception cref="ArgumentException">The taxonomy was built for another family.</exception>
    public static string GetFormatDigest(GuardFamily family, GuardTaxonomy? taxonomy, GuardRole role)
    {
        if (!Enum.IsDefined(family))
        {
            throw new ArgumentOutOfRangeException(nameof(family), family, "Unknown Llama Guard family.");
        }

        taxonomy ??= GuardTaxonomy.ForFamily(family);
        if (taxonomy.Family is { } built && built != family)
        {
            throw new ArgumentException($"The taxonomy was built for {built}, not {family}; build it for {family} (GuardTaxonomy.FromConfig({family}, ...)).", nameof(taxonomy));
        }

        var slots = taxonomy.FormatDigestSlots;
        var slot = (2 * (int)family) + Index(role);
        var digest = Volatile.Read(ref slots[slot]);
        if (digest is null)
        {
            if (!FormatRenderers.TryGetValue((family, taxonomy), out var renderer))
            {
                if (FormatRenderers.Count >= FormatRendererCapacity)
                {
                    FormatRenderers.Clear();
                }

                renderer = FormatRenderers.GetOrAdd((family, taxonomy), static key => new LlamaGuardPromptRenderer(key.Family, key.Taxonomy));
            }

            digest = renderer.GetFormatDigest(role);
            Volatile.Write(ref slots[slot], digest);
        }

        return digest;
    }

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

    private string ComputeFormatDigest(GuardRole role)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendRecord(hash, 'V', FormatDigestVersion.ToString(CultureInfo.InvariantCulture));
        AppendRecord(hash, 'F', Family.ToString());
        AppendRecord(hash, 'R', role.ToString());
        foreach (var segment in GetPrefixSegments(role))
        {
            AppendRecord(hash, segment.IsSpecial ? 'S' : 'T', segment.Text);
        }

        AppendRecord(hash, 'C', string.Empty);
        foreach (var segment in GetSuffixSegments(role))
        {
            AppendRecord(hash, segment.IsSpecial ? 'S' : 'T', segment.Text);
        }

        foreach (var category in Taxonomy.Categories)
        {
            AppendRecord(hash, 'K', category.Code);
            AppendRecord(hash, 'N', category.Name);
            AppendRecord(hash, 'D', category.Description);
            if (category.Heading is { } heading)
            {
                AppendRecord(hash, 'H', heading);
            }
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void AppendRecord(IncrementalHash hash, char tag, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        hash.AppendData(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{tag}{bytes.Length}:")));
        hash.AppendData(bytes);
    }

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
