using Guard.Conversations;

namespace Guard.Prompts;

/// <summary>
/// A Llama Guard prompt, whole and split into the fixed <see cref="Prefix"/> (cacheable per family, taxonomy and
/// role), the <see cref="Conversation"/> part and the <see cref="Suffix"/>.
/// </summary>
public sealed class RenderedPrompt
{
    internal RenderedPrompt(
        GuardFamily family,
        GuardRole role,
        string prefix,
        string conversation,
        string suffix,
        IReadOnlyList<PromptSegment> segments,
        bool truncated)
    {
        Family = family;
        Role = role;
        Prefix = prefix;
        Conversation = conversation;
        Suffix = suffix;
        Full = string.Concat(prefix, conversation, suffix);
        Segments = segments;
        Truncated = truncated;
    }

    /// <summary>The Llama Guard generation the prompt is for.</summary>
    public GuardFamily Family { get; }

    /// <summary>The role being classified (the conversation's last turn).</summary>
    public GuardRole Role { get; }

    /// <summary>Everything before the first turn; depends only on family, taxonomy and <see cref="Role"/>.</summary>
    public string Prefix { get; }

    /// <summary>The turns, each <c>User: text</c> or <c>Agent: text</c> followed by a blank line.</summary>
    public string Conversation { get; }

    /// <summary>Everything after the last turn, up to where the model starts its answer.</summary>
    public string Suffix { get; }

    /// <summary>The whole prompt: <see cref="Prefix"/> + <see cref="Conversation"/> + <see cref="Suffix"/>.</summary>
    public string Full { get; }

    /// <summary>
    /// The prompt as segments whose texts concatenate to <see cref="Full"/>: the prefix's segments, one plain segment
    /// for <see cref="Conversation"/>, then the suffix's; control tokens are separate special segments.
    /// </summary>
    public IReadOnlyList<PromptSegment> Segments { get; }

    /// <summary>Whether the conversation was shortened to fit a token budget (ADR 004's truncation rule).</summary>
    public bool Truncated { get; }

    /// <inheritdoc />
    public override string ToString() => Full;
}
