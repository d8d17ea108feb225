using System.Text;
using Gateway.Generation;
using Guard.Tokenizers;

namespace Gateway.Tokens;

/// <summary>Token counts that need no tokenizer: an upper bound, so that a request that surely fits is never
/// tokenized, and the estimate used when no tokenizer is available.</summary>
/// <remarks>
/// <para>Upper bound. Both Llama tokenizers start from at most one symbol per UTF-8 byte and BPE merges only ever
/// join symbols. Llama 3 (byte-level BPE) starts from exactly the text's UTF-8 bytes, so a text never has more tokens
/// than bytes. Llama 2 (SentencePiece BPE with byte fallback) starts from one symbol per character that is in the
/// vocabulary (at least one byte each), the character's UTF-8 bytes as <c>&lt;0xXX&gt;</c> tokens when it is not, or
/// one <c>&lt;unk&gt;</c>; spaces become '▁' one for one, and one '▁' is prepended to each run of text. So a run of
/// text has at most its UTF-8 byte count plus one tokens, a control token is one, and
/// <see cref="UpperBound(GenerationRequest)"/> adds the chat format's overhead (<see cref="PromptSegments.MaxOverheadPerMessage"/>) to
/// that. The tests check the bound against both real tokenizers on adversarial text.</para>
/// <para>Estimate. A gateway refusal is final while a forwarded request is still checked by the upstream, so the
/// estimate errs low: <see cref="EstimateBytesPerToken"/> bytes per token is above what the Llama 2 and Llama 3
/// tokenizers average on English prose and on source code (2.7 to 4.5 bytes per token), so only a prompt well over
/// the window is refused on an estimate (docs/api.md).</para>
/// </remarks>
internal static class TokenBounds
{
    /// <summary>The bytes per token the estimate assumes.</summary>
    public const int EstimateBytesPerToken = 6;

    /// <summary>At least as many tokens as the request's prompt has in any supported family's format.</summary>
    public static long UpperBound(GenerationRequest request)
    {
        long bound = PromptSegments.MaxOverheadPerRequest;
        if (request.Messages is { } messages)
        {
            foreach (var m in messages)
            {
                bound += Encoding.UTF8.GetByteCount(m.Content) + 1 + PromptSegments.MaxOverheadPerMessage;
            }
            return bound;
        }
        return bound + Encoding.UTF8.GetByteCount(request.Prompt ?? "") + 1 + PromptSegments.MaxOverheadPerMessage;
    }

    /// <summary>The upper bound of rendered segments: one per control token, UTF-8 bytes plus one per text.</summary>
    public static long UpperBound(IEnumerable<TokenSegment> segments)
    {
        long bound = 0;
        foreach (var s in segments)
        {
            bound += s.IsControlToken ? 1 : Encoding.UTF8.GetByteCount(s.Value) + 1;
        }
        return bound;
    }

    /// <summary>The estimate: one per control token, and <see cref="EstimateBytesPerToken"/> bytes per token of text.</summary>
    public static int Estimate(IEnumerable<TokenSegment> segments)
    {
        long controls = 0;
        long bytes = 0;
        foreach (var s in segments)
        {
            if (s.IsControlToken)
            {
                controls++;
            }
            else
            {
                bytes += Encoding.UTF8.GetByteCount(s.Value);
            }
        }
        return (int)Math.Min(int.MaxValue, controls + bytes / EstimateBytesPerToken);
    }
}
