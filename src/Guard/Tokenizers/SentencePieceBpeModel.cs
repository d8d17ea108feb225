namespace Guard.Tokenizers;

/// <summary>The vocabulary and merges of a SentencePiece-style BPE model, from tokenizer.json or tokenizer.model.</summary>
/// <param name="Pieces">Every piece that is text (not a byte or control token) and its id.</param>
/// <param name="ByteTokens">The byte-fallback tokens: byte value and id.</param>
/// <param name="MergeResults">The text of every piece a merge can produce.</param>
/// <param name="Merges">The merge rules.</param>
/// <param name="UnkId">The id of the unknown token.</param>
/// <param name="FuseUnk">Whether consecutive unknown tokens become one.</param>
/// <param name="Prefix">Where a '▁' is prepended.</param>
internal sealed record SentencePieceBpeModel(
    IReadOnlyList<KeyValuePair<string, int>> Pieces,
    IReadOnlyList<KeyValuePair<byte, int>> ByteTokens,
    IEnumerable<string> MergeResults,
    BpeMergeTable Merges,
    int UnkId,
    bool FuseUnk,
    PrefixSpace Prefix);
