namespace Guard.Conversations;

/// <summary>One turn of a guard conversation, as Llama Guard sees it.</summary>
/// <param name="Role">Who speaks.</param>
/// <param name="Content">The text; the prompt templates strip surrounding whitespace.</param>
public sealed record GuardTurn(GuardRole Role, string Content);
