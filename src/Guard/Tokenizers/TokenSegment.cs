namespace Guard.Tokenizers;

/// <summary>
/// One piece of a prompt template: either text, always encoded as plain text, or a control token named by its text.
/// </summary>
/// <remarks>
/// Only a template decides where control tokens go: user content belongs in <see cref="PlainText"/> segments, where
/// <c>&lt;|eot_id|&gt;</c> or <c>&lt;s&gt;</c> is just text (docs/adr/003-special-tokens-in-user-content.md).
/// </remarks>
public readonly record struct TokenSegment
{
    private TokenSegment(string value, bool isControlToken)
    {
        Value = value;
        IsControlToken = isControlToken;
    }

    /// <summary>Gets the text, or the control token's text when <see cref="IsControlToken"/> is set.</summary>
    public string Value { get; }

    /// <summary>Gets a value indicating whether this segment is a control token rather than text.</summary>
    public bool IsControlToken { get; }

    /// <summary>Creates a text segment: every character is encoded as text, whatever it looks like.</summary>
    /// <param name="text">The text, for example a user message.</param>
    /// <returns>The segment.</returns>
    public static TokenSegment PlainText(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new TokenSegment(text, isControlToken: false);
    }

    /// <summary>Creates a control-token segment, for example <c>&lt;|start_header_id|&gt;</c>.</summary>
    /// <param name="tokenText">The exact text of a control token of the tokenizer's vocabulary.</param>
    /// <returns>The segment.</returns>
    public static TokenSegment ControlToken(string tokenText)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenText);
        return new TokenSegment(tokenText, isControlToken: true);
    }
}
