using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Guard.Onnx.Engine;

/// <summary>
/// Greedy decoding with a KV cache for one sequence: one forward pass over the prompt (or only its part after a cached
/// prefix), then one token per pass, each feeding back the previous pass's cache. The prompt is never run twice.
/// </summary>
internal sealed class GreedyDecoder
{
    /// <summary>Tokens generated when the first token is neither <c>safe</c> nor <c>unsafe</c>.</summary>
    public const int NonVerdictTokens = 4;

    private readonly DecoderSession _decoder;
    private readonly KvCache _empty;
    private readonly PromptEncoder _encoder;
    private readonly HashSet<int> _stopIds;

    public GreedyDecoder(DecoderSession decoder, KvCache empty, PromptEncoder encoder)
    {
        _decoder = decoder;
        _empty = empty;
        _encoder = encoder;
        _stopIds = [.. encoder.Tokenizer.StopIds, encoder.Tokenizer.EosId];
    }

    /// <summary>Generates greedily.</summary>
    /// <param name="promptIds">The whole prompt.</param>
    /// <param name="prefix">A cached prefix to start from when the prompt begins with its ids, or null.</param>
    /// <param name="maxTokens">Most tokens to generate.</param>
    /// <param name="rule">When to stop.</param>
    /// <param name="scoreAfter">Generated tokens that must precede the verdict position (a lead-in the model generates itself), usually none.</param>
    /// <param name="runOptions">The call's run options.</param>
    /// <param name="cancellationToken">Checked before every pass.</param>
    public Generation Generate(
        int[] promptIds,
        PrefixEntry? prefix,
        int maxTokens,
        StopRule rule,
        int[] scoreAfter,
        RunOptions runOptions,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(promptIds.Length, 1);
        var reuse = prefix is not null && promptIds.Length > prefix.Ids.Length && promptIds.AsSpan().StartsWith(prefix.Ids);
        var start = reuse ? prefix!.Ids.Length : 0;

        // A shared-prefix graph attends to the prefix as a separate input, so the call's own cache starts empty.
        var shared = reuse && _decoder.Signature.SharedPrefix ? prefix!.Kv : null;
        var past = reuse && shared is null ? prefix!.Kv : _empty;
        var input = DecoderInput.Single(promptIds.AsSpan(start), start);
        var state = new GenerationState(_encoder, _stopIds, maxTokens, rule, scoreAfter);
        var scratch = _decoder.Signature.ElementType == TensorElementType.Float ? [] : ArrayPool<float>.Shared.Rent(_decoder.Signature.Config.VocabSize);
        KvCache? owned = null;
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int token;
                KvCache present;
                using (var output = _decoder.Forward(input, owned ?? past, runOptions, shared))
                {
                    token = state.Accept(output.LastLogits(0, scratch));
                    present = output.TakePresent();
                }

                owned?.Dispose();
                owned = present;
                if (state.Done)
                {
                    break;
                }

                input = DecoderInput.Single([token], (shared?.Length ?? 0) + owned.Length);
            }
        }
        finally
        {
            owned?.Dispose();
            if (scratch.Length > 0)
            {
                ArrayPool<float>.Shared.Return(scratch);
            }
        }

        return new Generation([.. state.Tokens], state.UnsafeProbability, promptIds.Length, reuse, prefix is not null && !reuse, promptIds.Length - start + state.Tokens.Count - 1);
    }
}
