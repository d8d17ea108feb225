namespace Guard.Prompts;

/// <summary>A piece of a rendered prompt: plain text, or one control token written as its literal text.</summary>
/// <param name="Text">The text, e.g. <c>&lt;|eot_id|&gt;</c> for a special segment.</param>
/// <param name="IsSpecial">
/// Whether the tokenizer must encode <paramref name="Text"/> as its single control token; plain segments (all message
/// content included) are encoded as text, so a user writing <c>&lt;|eot_id|&gt;</c> cannot inject a control token.
/// </param>
public readonly record struct PromptSegment(string Text, bool IsSpecial);
