namespace Guard.Tokenizers;

/// <summary>The tokenizer families <see cref="TokenizerLoader"/> recognises, as reported by <see cref="ITokenizer.Family"/>.</summary>
public static class TokenizerFamilies
{
    /// <summary>Llama 2 (LlamaGuard-7b): SentencePiece BPE over characters with byte fallback and '▁' for spaces.</summary>
    public const string Llama2 = "llama2";

    /// <summary>Llama 3 (Llama Guard 2 and 3): byte-level BPE after tiktoken-style regex pre-tokenization.</summary>
    public const string Llama3 = "llama3";
}
