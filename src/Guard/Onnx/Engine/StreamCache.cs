using Microsoft.ML.OnnxRuntime;

namespace Guard.Onnx.Engine;

/// <summary>
/// What a stream session keeps between its windows: the KV cache of its last window (batch 1), which of the cache's
/// slots are valid, and the token ids of the valid slots in order.
/// </summary>
/// <remarks>
/// <para>A slot is stale when a later window's prompt no longer has its token at that place: the previous window's fixed
/// suffix and answer tokens, and any token the tokenizer now merges differently at the old end of the text. Stale slots
/// stay in the tensors with attention mask 0 (the graph hides a key whose mask is 0), and positions count valid
/// slots only, so the valid slots are exactly what a full pass over <see cref="Ids"/> computes.</para>
/// <para>Owned by one session or one running window at a time; disposed by whoever holds it last.</para>
/// </remarks>
internal sealed class StreamCache : IDisposable
{
    /// <summary>Creates a cache that owns <paramref name="kv"/>.</summary>
    /// <param name="kv">The tensors, batch 1.</param>
    /// <param name="mask">One entry per slot of <paramref name="kv"/>: 1 valid, 0 stale.</param>
    /// <param name="ids">The ids of the valid slots, in order.</param>
    /// <param name="prefixLength">The length of the cached prompt prefix the session's first window started from (0: none).</param>
    public StreamCache(KvCache kv, long[] mask, int[] ids, int prefixLength)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(kv.Batch, 1, nameof(kv));
        ArgumentOutOfRangeException.ThrowIfNotEqual(mask.Length, kv.Length, nameof(mask));
        Kv = kv;
        Mask = mask;
        Ids = ids;
        PrefixLength = prefixLength;
    }

    /// <summary>The tensors.</summary>
    public KvCache Kv { get; }

    /// <summary>1 for a valid slot, 0 for a stale one.</summary>
    public long[] Mask { get; }

    /// <summary>The ids of the valid slots, in order.</summary>
    public int[] Ids { get; }

    /// <summary>The prompt prefix the session started from: a prompt that shares fewer ids with <see cref="Ids"/> has
    /// another prefix (another role or taxonomy) and is better started from its own cached prefix.</summary>
    public int PrefixLength { get; }

    /// <summary>Slots in the tensors, valid or stale.</summary>
    public int Slots => Kv.Length;

    /// <summary>Stale slots.</summary>
    public int Stale => Kv.Length - Ids.Length;

    /// <summary>The number of leading ids two sequences share.</summary>
    /// <param name="a">One sequence.</param>
    /// <param name="b">The other.</param>
    public static int CommonPrefix(ReadOnlySpan<int> a, ReadOnlySpan<int> b) => a.CommonPrefixLength(b);

    /// <summary>The mask that keeps the first <paramref name="keep"/> valid slots and hides every other.</summary>
    /// <param name="keep">Valid slots kept, at most <see cref="Ids"/>' length.</param>
    public long[] MaskKeeping(int keep)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(keep, Ids.Length);
        var mask = new long[Mask.Length];
        var seen = 0;
        for (var i = 0; i < mask.Length && seen < keep; i++)
        {
            if (Mask[i] != 0)
            {
                mask[i] = 1;
                seen++;
            }
        }

        return mask;
    }

    /// <summary>
    /// Copies the first <paramref name="keep"/> valid slots into new contiguous tensors in host memory (the CPU
    /// provider's KV memory): no stale slot is left. This cache is not changed.
    /// </summary>
    /// <param name="keep">Valid slots kept, at least 1.</param>
    /// <returns>The compacted tensors; the caller owns them.</returns>
    public KvCache CompactOnHost(int keep)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(keep, Ids.Length);
        var runs = ValidRuns(keep);
        var values = new OrtValue[Kv.Values.Count];
        try
        {
            for (var v = 0; v < values.Length; v++)
            {
                var source = Kv.Values[v];
                var info = source.GetTensorTypeAndShape();
                var shape = info.Shape;
                var heads = (int)shape[1];
                var width = (int)shape[3];
                values[v] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, info.ElementDataType, [1, heads, keep, width]);
                var from = source.GetTensorMutableRawData();
                var to = values[v].GetTensorMutableRawData();
                var slotBytes = from.Length / (heads * Kv.Length);
                for (var h = 0; h < heads; h++)
                {
                    var written = h * keep * slotBytes;
                    foreach (var (start, count) in runs)
                    {
                        from.Slice(((h * Kv.Length) + start) * slotBytes, count * slotBytes).CopyTo(to[written..]);
                        written += count * slotBytes;
                    }
                }
            }
        }
        catch
        {
            foreach (var value in values)
            {
                value?.Dispose();
            }

            throw;
        }

        return new KvCache(values, 1, keep);
    }

    /// <inheritdoc />
    public void Dispose() => Kv.Dispose();

    /// <summary>The slot runs (start, count) of the first <paramref name="keep"/> valid slots.</summary>
    private List<(int Start, int Count)> ValidRuns(int keep)
    {
        var runs = new List<(int Start, int Count)>();
        var seen = 0;
        for (var i = 0; i < Mask.Length && seen < keep; i++)
        {
            if (Mask[i] == 0)
            {
                continue;
            }

            if (runs.Count > 0 && runs[^1].Start + runs[^1].Count == i)
            {
                runs[^1] = (runs[^1].Start, runs[^1].Count + 1);
            }
            else
            {
                runs.Add((i, 1));
            }

            seen++;
        }

        return runs;
    }
}
