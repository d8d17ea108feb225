namespace Guard.Tokenizers;

/// <summary>The settings every Llama tokenizer family shares.</summary>
/// <param name="Family">One of the <see cref="TokenizerFamilies"/> constants.</param>
/// <param name="Specials">The control tokens.</param>
/// <param name="TokenBytes">The bytes each id decodes to (control tokens: their text); its size is the vocabulary size.</param>
/// <param name="BosId">The beginning-of-text id.</param>
/// <param name="EosId">The end-of-sequence id.</param>
/// <param name="StopIds">The ids that end generation.</param>
/// <param name="StripLeadingSpaceOnDecode">Whether decoding drops one leading space (the Llama 2 '▁' prefix).</param>
internal sealed record LlamaTokenizerSettings(
    string Family,
    SpecialTokenSet Specials,
    TokenBytesTable TokenBytes,
    int BosId,
    int EosId,
    IReadOnlyList<int> StopIds,
    bool StripLeadingSpaceOnDecode);
