namespace Guard.Tokenizers;

/// <summary>
/// Applies BPE merges to a run of symbols: repeatedly merges the adjacent pair with the lowest priority, the leftmost
/// pair on ties, until no pair merges. This is the order of Hugging Face tokenizers (rank, then position) and of
/// SentencePiece BPE (score, then position).
/// </summary>
internal static class BpeMerger
{
    [ThreadStatic]
    private static Workspace? _workspace;

    /// <summary>
    /// Up to this many symbols a quadratic scan over arrays on the stack is used; beyond it a heap with a linked list
    /// (O(n log n)). Thresholds from 16 to 96 measured within noise on the benchmark corpus (docs/benchmarks-tokenizers.md).
    /// </summary>
    internal const int SmallLimit = 48;

    /// <summary>Merges <paramref name="symbols"/> in place.</summary>
    /// <param name="symbols">The token ids of the initial symbols; on return the first entries hold the result.</param>
    /// <param name="merges">The merge rules.</param>
    /// <returns>The number of tokens after merging.</returns>
    public static int Merge(Span<int> symbols, BpeMergeTable merges)
    {
        if (symbols.Length < 2)
        {
            return symbols.Length;
        }

        return symbols.Length <= SmallLimit ? MergeSmall(symbols, merges) : MergeLarge(symbols, merges);
    }

    private static int MergeSmall(Span<int> symbols, BpeMergeTable merges)
    {
        var n = symbols.Length;
        Span<int> priority = stackalloc int[n];
        Span<int> result = stackalloc int[n];
        for (var i = 0; i < n - 1; i++)
        {
            Lookup(merges, symbols[i], symbols[i + 1], out priority[i], out result[i]);
        }

        while (n > 1)
        {
            var best = int.MaxValue;
            var at = -1;
            for (var i = 0; i < n - 1; i++)
            {
                if (priority[i] < best)
                {
                    best = priority[i];
                    at = i;
                }
            }

            if (at < 0)
            {
                break;
            }

            symbols[at] = result[at];
            // Drop symbol at+1 and pair at+1; the pairs after it shift left by one.
            symbols[(at + 2)..n].CopyTo(symbols[(at + 1)..]);
            if (at + 2 < n - 1)
            {
                priority[(at + 2)..(n - 1)].CopyTo(priority[(at + 1)..]);
                result[(at + 2)..(n - 1)].CopyTo(result[(at + 1)..]);
            }

            n--;
            if (at < n - 1)
            {
                Lookup(merges, symbols[at], symbols[at + 1], out priority[at], out result[at]);
            }

            if (at > 0)
            {
                Lookup(merges, symbols[at - 1], symbols[at], out priority[at - 1], out result[at - 1]);
            }
        }

        return n;
    }

    private static int MergeLarge(Span<int> symbols, BpeMergeTable merges)
    {
        var n = symbols.Length;
        var ws = _workspace ??= new Workspace();
        ws.EnsureCapacity(n);
        var prev = ws.Prev;
        var next = ws.Next;
        // A binary min-heap of (merge priority << 32 | left position): it pops the lowest priority, leftmost first.
        var heap = ws.Heap;
        var count = 0;
        for (var i = 0; i < n; i++)
        {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
            if (i + 1 < n && merges.TryGet(symbols[i], symbols[i + 1], out var p, out _))
            {
                heap[count++] = Pack(p, i);
            }
        }

        for (var i = (count / 2) - 1; i >= 0; i--)
        {
            SiftDown(heap, count, i);
        }

        while (count > 0)
        {
            var top = heap[0];
            heap[0] = heap[--count];
            SiftDown(heap, count, 0);
            var pos = (int)(uint)top;
            var right = next[pos];
            if (symbols[pos] < 0 || right < 0
                || !merges.TryGet(symbols[pos], symbols[right], out var p, out var merged)
                || p != (int)(top >> 32))
            {
                continue; // stale: one side was merged away since this pair was queued
            }

            symbols[pos] = merged;
            symbols[right] = -1;
            var after = next[right];
            next[pos] = after;
            if (after >= 0)
            {
                prev[after] = pos;
                if (merges.TryGet(merged, symbols[after], out var pr, out _))
                {
                    count = Push(ref ws.Heap, count, Pack(pr, pos));
                    heap = ws.Heap;
                }
            }

            var before = prev[pos];
            if (before >= 0 && merges.TryGet(symbols[before], merged, out var pl, out _))
            {
                count = Push(ref ws.Heap, count, Pack(pl, before));
                heap = ws.Heap;
            }
        }

        var length = 0;
        for (var i = 0; i >= 0; i = next[i])
        {
            symbols[length++] = symbols[i];
        }

        return length;
    }

    private static int Push(ref long[] heap, int count, long value)
    {
        if (count == heap.Length)
        {
            Array.Resize(ref heap, heap.Length * 2);
        }

        var i = count;
        while (i > 0)
        {
            var parent = (i - 1) >> 1;
            if (heap[parent] <= value)
            {
                break;
            }

            heap[i] = heap[parent];
            i = parent;
        }

        heap[i] = value;
        return count + 1;
    }

    private static void SiftDown(long[] heap, int count, int i)
    {
        var value = heap[i];
        while (true)
        {
            var child = (2 * i) + 1;
            if (child >= count)
            {
                break;
            }

            if (child + 1 < count && heap[child + 1] < heap[child])
            {
                child++;
            }

            if (heap[child] >= value)
            {
                break;
            }

            heap[i] = heap[child];
            i = child;
        }

        heap[i] = value;
    }

    private static void Lookup(BpeMergeTable merges, int left, int right, out int priority, out int result)
    {
        if (!merges.TryGet(left, right, out priority, out result))
        {
            priority = int.MaxValue;
        }
    }

    private static long Pack(int priority, int position) => ((long)priority << 32) | (uint)position;

    /// <summary>Per-thread arrays for long pieces, kept between calls so that merging allocates nothing.</summary>
    private sealed class Workspace
    {
        public int[] Prev { get; private set; } = new int[256];

        public int[] Next { get; private set; } = new int[256];

        public long[] Heap = new long[256];

        public void EnsureCapacity(int symbols)
        {
            if (Prev.Length < symbols)
            {
                var size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)symbols);
                Prev = new int[size];
                Next = new int[size];
                Heap = new long[size];
            }
        }
    }
}
