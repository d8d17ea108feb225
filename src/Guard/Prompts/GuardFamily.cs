namespace Guard.Prompts;

/// <summary>A Llama Guard generation; each has its own prompt format and default taxonomy.</summary>
public enum GuardFamily
{
    /// <summary>LlamaGuard-7b (Llama 2 tokenizer), categories O1..O6 with policy texts.</summary>
    LlamaGuard1,

    /// <summary>Meta-Llama-Guard-2-8B (Llama 3 tokenizer), categories S1..S11.</summary>
    LlamaGuard2,

    /// <summary>Llama-Guard-3-8B (Llama 3 tokenizer, header tokens in the prompt), categories S1..S14.</summary>
    LlamaGuard3,
}
