using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Guard.Tokenizers;

/// <summary>
/// A bounded, thread-safe cache from a pre-tokenized piece (normalized text) to its token ids.
/// </summary>
/// <remarks>
/// Text repeats a small set of words, so most pieces hit the cache and skip BPE. When the cache reaches its capacity
/// it is cleared, which bounds memory under adversarial input while keeping the hit rate of the current traffic.
/// </remarks>
internal sealed class TokenCache
{
    /// <summary>Longer pieces are not cached: they rarely repeat and would crowd out the common ones.</summary>
    public const int MaxKeyLength = 48;

    private readonly ConcurrentDictionary<string, int[]> _map = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly int _capacity;
    private int _count;

    /// <summary>Initializes a new instance of the <see cref="TokenCache"/> class.</summary>
    /// <param name="capacity">The number of pieces kept before the cache is cleared.</param>
    public TokenCache(int capacity)
    {
        _capacity = capacity;
        _lookup = _map.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Looks up the ids of a piece.</summary>
    /// <param name="piece">The normalized piece.</param>
    /// <param name="ids">The cached ids when found.</param>
    /// <returns>Whether the piece was cached.</returns>
    public bool TryGet(ReadOnlySpan<char> piece, [NotNullWhen(true)] out int[]? ids) => _lookup.TryGetValue(piece, out ids);

    /// <summary>Caches the ids of a piece no longer than <see cref="MaxKeyLength"/>.</summary>
    /// <param name="piece">The normalized piece.</param>
    /// <param name="ids">Its token ids.</param>
    public void Add(ReadOnlySpan<char> piece, ReadOnlySpan<int> ids)
    {
        if (piece.Length > MaxKeyLength)
        {
            return;
        }

        if (Interlocked.Increment(ref _count) > _capacity)
        {
            _map.Clear();
            Interlocked.Exchange(ref _count, 0);
        }

        _lookup.TryAdd(piece, ids.ToArray());
    }
}
