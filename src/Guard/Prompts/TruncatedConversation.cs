using Guard.Conversations;

namespace Guard.Prompts;

/// <summary>The result of fitting a conversation into a token budget.</summary>
/// <param name="Conversation">The conversation that fits (the original one when nothing was cut).</param>
/// <param name="Truncated">Whether anything was removed.</param>
/// <param name="DroppedTurns">How many whole turns were dropped from the start.</param>
/// <param name="RemovedCharacters">How many characters were cut from the start of the last turn.</param>
public sealed record TruncatedConversation(GuardConversation Conversation, bool Truncated, int DroppedTurns, int RemovedCharacters);
