using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Guard.Onnx.Engine;

/// <summary>
/// Greedy decoding of one stream window: continues the session's cache where the window's prompt ids still equal the
/// ids it holds (else starts from the cached prompt prefix), runs only the ids after that, and returns the new cache
/// for the next window. The valid slots always hold what a full pass over their ids computes, so the score equals a
/// full pass's within rounding (docs/adr/012-stream-sessions.md).
/// </summary>
internal sealed class StreamDecoder
{
    private readonly DecoderSession _decoder;
    private readonly KvCache _empty;
    private readonly PromptEncoder _encoder;
    private readonly HashSet<int> _stopIds;

    public StreamDecoder(DecoderSession decoder, KvCache empty, PromptEncoder encoder)
    {
        _decoder = decoder;
        _empty = empty;
        _encoder = encoder;
        _stopIds = [.. encoder.Tokenizer.StopIds, encoder.Tokenizer.EosId];
    }

    /// <summary>Generates greedily for one window.</summary>
    /// <param name="promptIds">The window's whole prompt.</param>
    /// <param name="cache">The session's cache, now owned by this call (disposed or handed on in the result), or null.</param>
    /// <param name="prefix">The cached prefix of the prompt's role and taxonomy, or null.</param>
    /// <param name="compaction">When stale slots are dropped; <see cref="StreamCompaction.Always"/> whatever is given
    /// for a graph that needs contiguous rows (<see cref="DecoderSignature.ContiguousRows"/>).</param>
    /// <param name="maxSlots">Most slots the tensors may hold at the end of the window (the context window).</param>
    /// <param name="maxTokens">Most tokens to generate.</param>
    /// <param name="rule">When to stop.</param>
    /// <param name="scoreAfter">Generated tokens that must precede the verdict position, usually none.</param>
    /// <param name="runOptions">The call's run options.</param>
    /// <param name="cancellationToken">Checked before every pass.</param>
    /// <returns>The generation and the cache to keep; on an exception every cache the call owned is disposed.</returns>
    public StreamWindow Generate(
        int[] promptIds,
        StreamCache? cache,
        PrefixEntry? prefix,
        StreamCompaction compaction,
        int maxSlots,
        int maxTokens,
        StopRule rule,
        int[] scoreAfter,
        RunOptions runOptions,
        CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(promptIds.Length, 1);
        if (_decoder.Signature.ContiguousRows)
        {
            // GroupQueryAttention cannot skip masked slots: the valid ones are copied out (or the session restarts).
            compaction = StreamCompaction.Always;
        }

        var prefixLength = prefix is not null && promptIds.Length > prefix.Ids.Length && promptIds.AsSpan().StartsWith(prefix.Ids) ? prefix.Ids.Length : 0;
        KvCache? owned = null;
        var scratch = _decoder.Signature.ElementType == TensorElementType.Float ? [] : ArrayPool<float>.Shared.Rent(_decoder.Signature.Config.VocabSize);
        try
        {
            var start = Plan(promptIds, ref cache, prefix, prefixLength, compaction, maxSlots, maxTokens, out var past, out var pastMask, out var window);
            owned = cache?.Kv;
            cache = null;
            var sequence = promptIds.Length - start;
            var inputIds = new long[sequence];
            var positions = new long[sequence];
            for (var i = 0; i < sequence; i++)
            {
                inputIds[i] = promptIds[start + i];
                positions[i] = start + i;
            }

            var mask = new List<long>(pastMask.Length + sequence + maxTokens);
            mask.AddRange(pastMask);
            mask.AddRange(Enumerable.Repeat(1L, sequence));
            var input = new DecoderInput(1, sequence, past.Length, inputIds, positions, [.. mask]);
            var state = new GenerationState(_encoder, _stopIds, maxTokens, rule, scoreAfter);
            var ids = new List<int>(promptIds.Length + maxTokens);
            ids.AddRange(promptIds);
            var current = past;
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int token;
                KvCache present;
                using (var output = _decoder.Forward(input, current, runOptions))
                {
                    token = state.Accept(output.LastLogits(0, scratch));
                    present = output.TakePresent();
                }

                owned?.Dispose();
                owned = present;
                current = present;
                if (state.Done)
                {
                    break;
                }

                // The generated token goes in as if it were prompt: its slot is valid and it is counted in the ids.
                mask.Add(1);
                input = new DecoderInput(1, 1, current.Length, [token], [ids.Count], [.. mask]);
                ids.Add(token);
            }

            var kept = new StreamCache(owned, [.. mask], [.. ids], window.Continued ? window.PrefixLength : prefixLength);
            owned = null;
            var generation = new Generation([.. state.Tokens], state.UnsafeProbability, promptIds.Length,
                PrefixReused: !window.Continued && prefixLength > 0, PrefixMismatch: !window.Continued && prefix is not null && prefixLength == 0,
                TokensRun: sequence + state.Tokens.Count - 1);
            return new StreamWindow(generation, kept, window.Continued, window.Continued ? start - window.PrefixLength : 0, window.Compacted, window.Restarted);
        }
        finally
        {
            cache?.Dispose();
            owned?.Dispose();
            if (scratch.Length > 0)
            {
                ArrayPool<float>.Shared.Return(scratch);
            }
        }
    }

    /// <summary>Chooses where the window starts: the session's cache (compacted when due), or the prefix, or nothing.</summary>
    /// <returns>The number of prompt ids already in <paramref name="past"/>'s valid slots; on return
    /// <paramref name="cache"/> is the cache to dispose after the first pass (null when <paramref name="past"/> is shared).</returns>
    private int Plan(
        int[] promptIds,
        ref StreamCache? cache,
        PrefixEntry? prefix,
        int prefixLength,
        StreamCompaction compaction,
        int maxSlots,
        int maxTokens,
        out KvCache past,
        out long[] pastMask,
        out (bool Continued, int PrefixLength, bool Compacted, bool Restarted) window)
    {
        window = default;
        if (cache is not null)
        {
            // At least the last prompt id runs: its logits are the verdict position's.
            var shared = Math.Min(StreamCache.CommonPrefix(promptIds, cache.Ids), promptIds.Length - 1);
            if (shared > prefixLength && shared >= cache.PrefixLength)
            {
                var stale = cache.Slots - shared;
                var slotsAtEnd = cache.Slots + (promptIds.Length - shared) + maxTokens;
                if (!compaction.Due(shared, stale) && slotsAtEnd <= maxSlots)
                {
                    past = cache.Kv;
                    pastMask = cache.MaskKeeping(shared);
                    window = (true, cache.PrefixLength, false, false);
                    return shared;
                }

                if (_decoder.KvOnHost)
                {
                    var compacted = new StreamCache(cache.CompactOnHost(shared), Ones(shared), cache.Ids[..shared], cache.PrefixLength);
                    cache.Dispose();
                    cache = compacted;
                    past = compacted.Kv;
                    pastMask = compacted.Mask;
                    window = (true, compacted.PrefixLength, true, false);
                    return shared;
                }

                // Device memory: the session starts again from the prefix rather than copying on the device.
                window = (false, 0, false, true);
            }

            cache.Dispose();
            cache = null;
        }

        past = prefixLength > 0 ? prefix!.Kv : _empty;
        pastMask = Ones(prefixLength);
        return prefixLength;
    }

    private static long[] Ones(int length)
    {
        var ones = new long[length];
        Array.Fill(ones, 1L);
        return ones;
    }
}
