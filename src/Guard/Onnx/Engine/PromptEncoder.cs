using Guard.Prompts;
using Guard.Tokenizers;

namespace Guard.Onnx.Engine;

/// <summary>
/// Turns rendered Llama Guard prompts into the ids the model reads, and knows the ids of the verdict words.
/// </summary>
/// <remarks>
/// <para>BOS: Llama Guard 1 and 2 prompts start with the tokenizer's BOS (<c>&lt;s&gt;</c>, <c>&lt;|begin_of_text|&gt;</c>)
/// as Meta's inference code adds it; Llama Guard 3's template writes <c>&lt;|begin_of_text|&gt;</c> itself, so no
/// second one is added. Control tokens come only from the template's special segments; message content is plain text
/// (ADR 003).</para>
/// <para>Verdict position: Llama Guard 1 and 2 answer with the verdict word right after <c>[/INST]</c>. Llama Guard 3
/// answers <c>\n\nsafe</c>: its lead-in (<see cref="LeadIn"/>, the tokens of <c>\n\n</c>) is appended to the prompt as
/// if generated, so that one forward pass reads the verdict position (docs/adr/006).</para>
/// </remarks>
internal sealed class PromptEncoder
{
    private readonly ITokenizer _tokenizer;

    public PromptEncoder(ITokenizer tokenizer, GuardFamily family, string tokenizerPath)
    {
        _tokenizer = tokenizer;
        Family = family;
        AddsBos = family != GuardFamily.LlamaGuard3;
        LeadIn = family == GuardFamily.LlamaGuard3 ? tokenizer.Encode("\n\n", addBos: false) : [];
        SafeId = SingleToken(tokenizer, tokenizerPath, "safe");
        UnsafeId = SingleToken(tokenizer, tokenizerPath, "unsafe");
        if (SafeId == UnsafeId)
        {
            throw new OnnxModelLoadException(tokenizerPath, $"'safe' and 'unsafe' encode to the same token {SafeId}; the tokenizer does not fit a Llama Guard model", null);
        }
    }

    /// <summary>The family.</summary>
    public GuardFamily Family { get; }

    /// <summary>Whether prompts start with the tokenizer's BOS.</summary>
    public bool AddsBos { get; }

    /// <summary>The answer's fixed lead-in before the verdict word (Llama Guard 3: <c>\n\n</c>), empty otherwise.</summary>
    public int[] LeadIn { get; }

    /// <summary>The id of the first answer token <c>safe</c> (<c>▁safe</c> = 9109 for Llama Guard 1).</summary>
    public int SafeId { get; }

    /// <summary>The id of the first answer token <c>unsafe</c> (<c>▁unsafe</c> = 25110 for Llama Guard 1).</summary>
    public int UnsafeId { get; }

    /// <summary>The tokenizer.</summary>
    public ITokenizer Tokenizer => _tokenizer;

    /// <summary>Encodes prompt segments, with BOS where the family needs it, and optionally the answer lead-in.</summary>
    /// <param name="segments">The rendered segments.</param>
    /// <param name="withLeadIn">Whether to append <see cref="LeadIn"/>.</param>
    public int[] Encode(IReadOnlyList<PromptSegment> segments, bool withLeadIn)
    {
        var tokenSegments = new TokenSegment[segments.Count];
        for (var i = 0; i < tokenSegments.Length; i++)
        {
            tokenSegments[i] = segments[i].IsSpecial ? TokenSegment.ControlToken(segments[i].Text) : TokenSegment.PlainText(segments[i].Text);
        }

        var ids = new List<int>(1024);
        if (AddsBos)
        {
            ids.Add(_tokenizer.BosId);
        }

        _tokenizer.EncodeTo(tokenSegments, ids);
        if (withLeadIn)
        {
            ids.AddRange(LeadIn);
        }

        return [.. ids];
    }

    /// <summary>Encodes a raw prompt as plain text after BOS (control-token strings stay text, ADR 003).</summary>
    /// <param name="prompt">The prompt.</param>
    public int[] EncodeRaw(string prompt) => _tokenizer.Encode(prompt, addBos: true);

    private static int SingleToken(ITokenizer tokenizer, string tokenizerPath, string word)
    {
        var ids = tokenizer.Encode(word, addBos: false);
        return ids.Length == 1
            ? ids[0]
            : throw new OnnxModelLoadException(
                tokenizerPath,
                $"'{word}' encodes to {ids.Length} tokens ({string.Join(", ", ids)}); a Llama Guard vocabulary has it as one token, so the tokenizer does not fit the model",
                null);
    }
}
