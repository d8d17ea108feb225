namespace Guard.Conversations;

/// <summary>What happens to <c>system</c> and <c>developer</c> messages when a chat is mapped (ADR 004).</summary>
public enum SystemMessageHandling
{
    /// <summary>The default: the text is classified as user input, merged into the adjacent user turn.</summary>
    MergeIntoUser,

    /// <summary>The text is left out; only for deployments whose system prompts are operator-owned and trusted.</summary>
    Drop,
}
