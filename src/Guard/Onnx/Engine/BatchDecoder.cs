using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Guard.Onnx.Engine;

/// <summary>
/// Greedy decoding of several calls that share one prefix as a single padded batch: one pass over every call's tokens
/// after the prefix, left-padded to the longest, then one token per unfinished row per pass (docs/adr/006).
/// </summary>
/// <remarks>
/// Row <c>r</c> with <c>S_r</c> of <c>S</c> new tokens has mask <c>[1 x P][0 x (S - S_r)][1 x S_r]</c> and positions
/// <c>P .. P + S_r - 1</c> on its real tokens, so each row ends at the last slot and its logits are the batch's last
/// position. Rows that finished (or whose caller left) feed a masked pad token until the last row is done. The graph
/// masks keys by slot, so a row never sees another row's padding and its scores equal an unbatched run's.
/// </remarks>
internal sealed class BatchDecoder
{
    private const int PadId = 0;

    private readonly DecoderSession _decoder;
    private readonly PromptEncoder _encoder;
    private readonly HashSet<int> _stopIds;

    public BatchDecoder(DecoderSession decoder, PromptEncoder encoder)
    {
        _decoder = decoder;
        _encoder = encoder;
        _stopIds = [.. encoder.Tokenizer.StopIds, encoder.Tokenizer.EosId];
    }

    /// <summary>Whether the graph takes padded rows at all (a fused graph's GroupQueryAttention does not,
    /// <see cref="DecoderSignature.ContiguousRows"/>) and, when calls start from a cached prefix
    /// (<paramref name="prefixReuse"/>), whether a batch can share it: a shared-prefix graph attends to the one prefix
    /// cache from every row; another graph needs the prefix tiled along the batch axis, which is done in host memory,
    /// so only when the session keeps its KV cache on the host.</summary>
    /// <param name="prefixReuse">Whether calls start from cached prefixes.</param>
    public bool CanBatch(bool prefixReuse) =>
        !_decoder.Signature.ContiguousRows && (!prefixReuse || _decoder.Signature.SharedPrefix || _decoder.KvOnHost);

    /// <summary>Runs the calls as one batch.</summary>
    /// <param name="calls">The calls; all start from <paramref name="prefix"/> (their ids begin with its ids).</param>
    /// <param name="prefix">The shared prefix, or null when every call runs its whole prompt.</param>
    /// <param name="runOptions">The batch's run options.</param>
    /// <returns>One generation per call, in order, and the forward passes run.</returns>
    public (Generation[] Generations, int Passes) Generate(IReadOnlyList<BatchCall> calls, PrefixEntry? prefix, RunOptions runOptions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(calls.Count, 1);
        var batch = calls.Count;
        var start = prefix?.Ids.Length ?? 0;
        var states = new GenerationState[batch];
        var valid = new int[batch];
        var sequence = 0;
        for (var r = 0; r < batch; r++)
        {
            states[r] = new GenerationState(_encoder, _stopIds, calls[r].MaxTokens, calls[r].Rule, calls[r].ScoreAfter);
            sequence = Math.Max(sequence, calls[r].Tail.Length);
        }

        var input = FirstInput(calls, start, sequence, valid);
        var scratch = _decoder.Signature.ElementType == TensorElementType.Float ? [] : ArrayPool<float>.Shared.Rent(_decoder.Signature.Config.VocabSize);
        var shared = prefix is not null && _decoder.Signature.SharedPrefix ? prefix.Kv : null;
        var past = prefix is null || shared is not null ? KvCache.Empty(_decoder.Signature, batch) : KvCache.Tile(prefix.Kv, batch, _decoder.Signature.ElementType);
        var mask = input.AttentionMask;
        var passes = 0;
        try
        {
            while (true)
            {
                var next = new long[batch];
                using (var output = _decoder.Forward(input, past, runOptions, shared))
                {
                    passes++;
                    for (var r = 0; r < batch; r++)
                    {
                        if (states[r].Done || calls[r].CancellationToken.IsCancellationRequested)
                        {
                            next[r] = PadId;
                            continue;
                        }

                        next[r] = states[r].Accept(output.LastLogits(r, scratch));
                    }

                    past.Dispose();
                    past = output.TakePresent();
                }

                if (Finished(states, calls))
                {
                    break;
                }

                // One more slot per row: a live row's token (mask 1, its next position); a finished row's pad (mask 0).
                var length = (shared?.Length ?? 0) + past.Length;
                var grown = new long[batch * (length + 1)];
                var positions = new long[batch];
                for (var r = 0; r < batch; r++)
                {
                    Array.Copy(mask, r * length, grown, r * (length + 1), length);
                    var live = !states[r].Done && !calls[r].CancellationToken.IsCancellationRequested;
                    grown[(r * (length + 1)) + length] = live ? 1 : 0;
                    positions[r] = start + valid[r];
                    if (live)
                    {
                        valid[r]++;
                    }
                    else
                    {
                        next[r] = PadId;
                    }
                }

                mask = grown;
                input = new DecoderInput(batch, 1, length, next, positions, mask);
            }
        }
        finally
        {
            past.Dispose();
            if (scratch.Length > 0)
            {
                ArrayPool<float>.Shared.Return(scratch);
            }
        }

        var generations = new Generation[batch];
        for (var r = 0; r < batch; r++)
        {
            generations[r] = new Generation([.. states[r].Tokens], states[r].UnsafeProbability, calls[r].Ids.Length, prefix is not null, calls[r].PrefixMismatch, calls[r].Tail.Length + states[r].Tokens.Count - 1);
        }

        return (generations, passes);
    }

    private static DecoderInput FirstInput(IReadOnlyList<BatchCall> calls, int start, int sequence, int[] valid)
    {
        var batch = calls.Count;
        var ids = new long[batch * sequence];
        var positions = new long[batch * sequence];
        var mask = new long[batch * (start + sequence)];
        for (var r = 0; r < batch; r++)
        {
            var tail = calls[r].Tail;
            var pad = sequence - tail.Length;
            var row = r * sequence;
            var maskRow = r * (start + sequence);
            mask.AsSpan(maskRow, start).Fill(1);
            for (var j = 0; j < pad; j++)
            {
                ids[row + j] = PadId;
                positions[row + j] = start;
            }

            for (var j = 0; j < tail.Length; j++)
            {
                ids[row + pad + j] = tail[j];
                positions[row + pad + j] = start + j;
                mask[maskRow + start + pad + j] = 1;
            }

            valid[r] = tail.Length;
        }

        return new DecoderInput(batch, sequence, start, ids, positions, mask);
    }

    private static bool Finished(GenerationState[] states, IReadOnlyList<BatchCall> calls)
    {
        for (var r = 0; r < states.Length; r++)
        {
            if (!states[r].Done && !calls[r].CancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }

        return true;
    }
}
