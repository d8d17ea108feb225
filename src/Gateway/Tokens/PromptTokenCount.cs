namespace Gateway.Tokens;

/// <summary>The tokens of a request's prompt in its model's format.</summary>
/// <param name="Tokens">The count.</param>
/// <param name="Estimated">Whether it is the byte estimate rather than a tokenizer's exact count.</param>
internal readonly record struct PromptTokenCount(int Tokens, bool Estimated);
