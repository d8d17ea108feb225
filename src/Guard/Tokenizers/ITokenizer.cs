namespace Guard.Tokenizers;

/// <summary>
/// Converts text to the token ids of one Llama tokenizer family and back; implementations are immutable and thread-safe.
/// </summary>
/// <remarks>
/// The plain-text methods (<see cref="Encode(ReadOnlySpan{char}, bool)"/>, <see cref="EncodeTo(ReadOnlySpan{char}, List{int})"/>,
/// <see cref="CountTokens"/>) treat every character as text: strings such as <c>&lt;s&gt;</c>, <c>[INST]</c> or
/// <c>&lt;|eot_id|&gt;</c> inside user content become ordinary text tokens and never control ids, so a user cannot
/// close the guard's turn or forge a header (prompt injection into the guard). Control tokens are inserted only on
/// purpose, by a prompt template that names them in a <see cref="TokenSegment.ControlToken"/> segment or by
/// <see cref="BosId"/>. See docs/adr/003-special-tokens-in-user-content.md.
/// </remarks>
public interface ITokenizer
{
    /// <summary>Gets the tokenizer family, one of the <see cref="TokenizerFamilies"/> constants.</summary>
    string Family { get; }

    /// <summary>Gets the number of token ids, control tokens included (32000 for Llama 2, 128256 for Llama 3).</summary>
    int VocabSize { get; }

    /// <summary>Gets the id of the beginning-of-text control token (<c>&lt;s&gt;</c> = 1, <c>&lt;|begin_of_text|&gt;</c> = 128000).</summary>
    int BosId { get; }

    /// <summary>Gets the id of the end-of-sequence control token the model emits when it has finished its answer.</summary>
    int EosId { get; }

    /// <summary>Gets every control token id that ends generation (for Llama 3: end of text, end of message, end of turn).</summary>
    IReadOnlyList<int> StopIds { get; }

    /// <summary>Looks up a control token by its text, for example <c>&lt;|eot_id|&gt;</c>.</summary>
    /// <param name="tokenText">The exact text of the control token.</param>
    /// <param name="id">The token id when found.</param>
    /// <returns><see langword="true"/> when <paramref name="tokenText"/> names a control token of this vocabulary.</returns>
    bool TryGetSpecialTokenId(string tokenText, out int id);

    /// <summary>Encodes text as plain text (control-token strings stay text), optionally after the BOS token.</summary>
    /// <param name="text">The text to encode.</param>
    /// <param name="addBos">Whether the ids start with <see cref="BosId"/>.</param>
    /// <returns>The token ids.</returns>
    int[] Encode(ReadOnlySpan<char> text, bool addBos);

    /// <summary>Appends the ids of <paramref name="text"/>, encoded as plain text, to <paramref name="destination"/>.</summary>
    /// <param name="text">The text to encode.</param>
    /// <param name="destination">The list the ids are appended to.</param>
    void EncodeTo(ReadOnlySpan<char> text, List<int> destination);

    /// <summary>Encodes a prompt template: text segments as plain text, control-token segments as their ids.</summary>
    /// <param name="segments">The segments in order; adjacent text segments are encoded as one text.</param>
    /// <returns>The token ids.</returns>
    /// <exception cref="ArgumentException">A control-token segment names no control token of this vocabulary.</exception>
    int[] Encode(ReadOnlySpan<TokenSegment> segments);

    /// <summary>Appends the ids of a prompt template to <paramref name="destination"/>; see <see cref="Encode(ReadOnlySpan{TokenSegment})"/>.</summary>
    /// <param name="segments">The segments in order; adjacent text segments are encoded as one text.</param>
    /// <param name="destination">The list the ids are appended to.</param>
    void EncodeTo(ReadOnlySpan<TokenSegment> segments, List<int> destination);

    /// <summary>Counts the tokens of <paramref name="text"/> encoded as plain text, without BOS.</summary>
    /// <param name="text">The text to measure.</param>
    /// <returns>The number of tokens.</returns>
    int CountTokens(ReadOnlySpan<char> text);

    /// <summary>Decodes ids to text; control tokens appear as their text (as in Hugging Face's default).</summary>
    /// <param name="ids">The token ids.</param>
    /// <returns>The text; invalid UTF-8 byte sequences become U+FFFD.</returns>
    string Decode(ReadOnlySpan<int> ids);

    /// <summary>Decodes ids to text, leaving control tokens out when <paramref name="skipSpecialTokens"/> is set.</summary>
    /// <param name="ids">The token ids.</param>
    /// <param name="skipSpecialTokens">Whether control tokens are dropped from the text.</param>
    /// <returns>The text; invalid UTF-8 byte sequences become U+FFFD.</returns>
    string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens);
}
