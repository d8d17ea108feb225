using Guard.Conversations;
using Guard.Prompts;
using Microsoft.ML.OnnxRuntime;

namespace Guard.Onnx.Engine;

/// <summary>The fixed prompt prefix of one role, tokenized and run once: its ids and its KV cache.</summary>
/// <param name="Role">The role the prefix asks about.</param>
/// <param name="Ids">The prefix ids (BOS included where the family has one).</param>
/// <param name="Kv">The prefix's KV cache, batch 1; shared read-only by every call.</param>
internal sealed record PrefixEntry(GuardRole Role, int[] Ids, KvCache Kv);

/// <summary>
/// The prefix KV caches of an engine: one per role for the engine's own taxonomy, built once at start-up and kept for
/// the engine's life; and, for conversations that carry their own taxonomy, one per taxonomy and role, built on first
/// use and kept for the most recently used few. Disposed with the engine.
/// </summary>
/// <remarks>
/// A custom prefix is leased by each call that starts from it; an evicted one is disposed when its last lease ends,
/// so a running call never loses the cache it reads. Thread-safe.
/// </remarks>
internal sealed class PrefixCache : IDisposable
{
    private readonly PrefixEntry[] _entries;
    private readonly DecoderSession _decoder;
    private readonly KvCache _empty;
    private readonly Lock _lock = new();
    private readonly Dictionary<(GuardTaxonomy Taxonomy, GuardRole Role), LinkedListNode<CustomPrefix>> _custom = [];
    private readonly LinkedList<CustomPrefix> _recent = new();
    private long _builds;
    private long _evictions;
    private bool _disposed;

    private PrefixCache(PrefixEntry[] entries, DecoderSession decoder, KvCache empty, int customCapacity)
    {
        _entries = entries;
        _decoder = decoder;
        _empty = empty;
        CustomCapacity = customCapacity;
    }

    /// <summary>The entries of the engine's own taxonomy, user first.</summary>
    public IReadOnlyList<PrefixEntry> Entries => _entries;

    /// <summary>Most custom-taxonomy prefixes kept (one per taxonomy and role); 0 keeps none.</summary>
    public int CustomCapacity { get; }

    /// <summary>Custom-taxonomy prefixes cached now (evicted ones still in use not counted).</summary>
    public int CustomCount
    {
        get
        {
            lock (_lock)
            {
                return _custom.Count;
            }
        }
    }

    /// <summary>Custom-taxonomy prefixes computed so far.</summary>
    public long CustomBuilds => Interlocked.Read(ref _builds);

    /// <summary>Custom-taxonomy prefixes evicted to make room so far.</summary>
    public long CustomEvictions => Interlocked.Read(ref _evictions);

    /// <summary>Runs each role's prefix once and keeps the present tensors.</summary>
    /// <param name="decoder">The session.</param>
    /// <param name="empty">An empty batch-1 cache; it must outlive the cache.</param>
    /// <param name="prefixIds">The ids of each role's prefix.</param>
    /// <param name="customCapacity">Most custom-taxonomy prefixes to keep.</param>
    public static PrefixCache Build(DecoderSession decoder, KvCache empty, Func<GuardRole, int[]> prefixIds, int customCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(customCapacity);
        var entries = new List<PrefixEntry>();
        try
        {
            using var runOptions = new RunOptions();
            foreach (var role in new[] { GuardRole.User, GuardRole.Agent })
            {
                entries.Add(Run(decoder, empty, role, prefixIds(role), runOptions));
            }
        }
        catch
        {
            foreach (var e in entries)
            {
                e.Kv.Dispose();
            }

            throw;
        }

        return new PrefixCache([.. entries], decoder, empty, customCapacity);
    }

    /// <summary>The entry of a role for the engine's own taxonomy.</summary>
    /// <param name="role">The role.</param>
    public PrefixEntry Get(GuardRole role) => role == GuardRole.Agent ? _entries[1] : _entries[0];

    /// <summary>
    /// Leases the prefix of a custom taxonomy and role, running it first when it is not cached (on the caller's
    /// thread, with the caller's run options); the lease has no entry when <see cref="CustomCapacity"/> is 0.
    /// </summary>
    /// <param name="taxonomy">The conversation's taxonomy (not the engine's own).</param>
    /// <param name="role">The role being classified.</param>
    /// <param name="prefixIds">Computes the prefix ids, when it must be run.</param>
    /// <param name="runOptions">The call's run options (their terminate flag cancels the prefix pass).</param>
    /// <returns>The lease; dispose it when the call no longer reads the cache.</returns>
    public Lease Acquire(GuardTaxonomy taxonomy, GuardRole role, Func<int[]> prefixIds, RunOptions runOptions)
    {
        if (CustomCapacity == 0)
        {
            return default;
        }

        var key = (taxonomy, role);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_custom.TryGetValue(key, out var node))
            {
                Touch(node);
                return new Lease(node.Value);
            }
        }

        // Run outside the lock: other calls keep using the cache meanwhile. Two first calls of one taxonomy may both
        // run it; the second result is dropped.
        var built = new CustomPrefix(this, taxonomy, Run(_decoder, _empty, role, prefixIds(), runOptions));
        lock (_lock)
        {
            if (_disposed)
            {
                built.Entry.Kv.Dispose();
                throw new ObjectDisposedException(nameof(PrefixCache));
            }

            if (_custom.TryGetValue(key, out var existing))
            {
                built.Entry.Kv.Dispose();
                Touch(existing);
                return new Lease(existing.Value);
            }

            _custom[key] = _recent.AddFirst(built);
            Interlocked.Increment(ref _builds);
            while (_custom.Count > CustomCapacity)
            {
                var oldest = _recent.Last!;
                _recent.RemoveLast();
                _custom.Remove(oldest.Value.Key);
                Interlocked.Increment(ref _evictions);
                oldest.Value.Evict();
            }

            built.Refs++;
            return new Lease(built);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var custom in _recent)
            {
                custom.Evict();
            }

            _recent.Clear();
            _custom.Clear();
        }

        foreach (var e in _entries)
        {
            e.Kv.Dispose();
        }
    }

    private static PrefixEntry Run(DecoderSession decoder, KvCache empty, GuardRole role, int[] ids, RunOptions runOptions)
    {
        using var output = decoder.Forward(DecoderInput.Single(ids, 0), empty, runOptions);
        return new PrefixEntry(role, ids, output.TakePresent());
    }

    /// <summary>Marks a node most recently used and leases it; under the lock.</summary>
    private void Touch(LinkedListNode<CustomPrefix> node)
    {
        _recent.Remove(node);
        _recent.AddFirst(node);
        node.Value.Refs++;
    }

    /// <summary>One call's use of a cached prefix; disposing it lets an evicted prefix be freed.</summary>
    internal readonly struct Lease : IDisposable
    {
        private readonly CustomPrefix? _prefix;

        internal Lease(CustomPrefix prefix) => _prefix = prefix;

        /// <summary>The prefix to start from; null when custom prefixes are not cached.</summary>
        public PrefixEntry? Entry => _prefix?.Entry;

        /// <inheritdoc />
        public void Dispose() => _prefix?.Release();
    }

    /// <summary>A custom taxonomy's prefix for one role, with the number of calls reading it.</summary>
    internal sealed class CustomPrefix(PrefixCache owner, GuardTaxonomy taxonomy, PrefixEntry entry)
    {
        private bool _evicted;

        /// <summary>The prefix's ids and cache.</summary>
        public PrefixEntry Entry { get; } = entry;

        /// <summary>The cache key: the taxonomy and the role.</summary>
        public (GuardTaxonomy Taxonomy, GuardRole Role) Key => (taxonomy, Entry.Role);

        /// <summary>Leases held; under the owner's lock.</summary>
        public int Refs { get; set; }

        /// <summary>No longer cached: disposed now, or when the last lease ends; under the owner's lock.</summary>
        public void Evict()
        {
            _evicted = true;
            if (Refs == 0)
            {
                Entry.Kv.Dispose();
            }
        }

        /// <summary>Ends one lease; disposes an evicted prefix when it was the last.</summary>
        public void Release()
        {
            lock (owner._lock)
            {
                Refs--;
                if (_evicted && Refs == 0)
                {
                    Entry.Kv.Dispose();
                }
            }
        }
    }
}
