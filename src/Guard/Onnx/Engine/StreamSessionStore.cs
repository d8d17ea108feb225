namespace Guard.Onnx.Engine;

/// <summary>
/// Where an engine's stream sessions keep their caches between windows, bounded: at most <see cref="Capacity"/> caches
/// are held; one unused for <see cref="IdleTimeout"/> (on the injected <see cref="TimeProvider"/>) is dropped, and when
/// a window ends with every place taken, the least recently used other cache is evicted. A session whose cache was
/// dropped runs its next window from the cached prefix: slower, never a different verdict.
/// </summary>
/// <remarks>
/// A running window has taken its session's cache out of the store (<see cref="Take"/>) and puts the new one back
/// (<see cref="Keep"/>), so a cache in use is never evicted; running windows are bounded by the engine's concurrency
/// gate. Every hand-over happens under one lock, so a cache is disposed exactly once whatever closes first. Thread-safe.
/// </remarks>
internal sealed class StreamSessionStore : IDisposable
{
    private readonly Lock _lock = new();
    private readonly LinkedList<StreamSession> _held = new();
    private readonly TimeProvider _time;
    private readonly ITimer? _sweeper;
    private long _opened;
    private long _evictions;
    private long _expirations;
    private int _open;
    private bool _disposed;

    /// <summary>Creates the store.</summary>
    /// <param name="capacity">Most caches held between windows; 0 keeps none (the engine then opens no sessions).</param>
    /// <param name="idleTimeout">How long an unused cache is kept.</param>
    /// <param name="time">The clock the idle timeout is measured on.</param>
    public StreamSessionStore(int capacity, TimeSpan idleTimeout, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(idleTimeout, TimeSpan.Zero);
        Capacity = capacity;
        IdleTimeout = idleTimeout;
        _time = time;
        if (capacity > 0)
        {
            // Idle caches are also dropped when nothing else happens; an expired cache is never used in any case.
            _sweeper = time.CreateTimer(static state => ((StreamSessionStore)state!).Sweep(), this, idleTimeout, idleTimeout);
        }
    }

    /// <summary>Most caches held between windows.</summary>
    public int Capacity { get; }

    /// <summary>How long an unused cache is kept.</summary>
    public TimeSpan IdleTimeout { get; }

    /// <summary>Sessions opened so far.</summary>
    public long Opened => Interlocked.Read(ref _opened);

    /// <summary>Sessions open now.</summary>
    public int OpenSessions => Volatile.Read(ref _open);

    /// <summary>Caches held now (between windows).</summary>
    public int Held
    {
        get
        {
            lock (_lock)
            {
                return _held.Count;
            }
        }
    }

    /// <summary>Caches evicted to make room so far.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Caches dropped after their idle timeout so far.</summary>
    public long Expirations => Interlocked.Read(ref _expirations);

    /// <summary>Opens a session.</summary>
    /// <param name="engine">The engine whose windows it runs.</param>
    public StreamSession Open(OnnxGuardEngine engine)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Interlocked.Increment(ref _opened);
            Interlocked.Increment(ref _open);
            return new StreamSession(engine, this);
        }
    }

    /// <summary>Takes a session's cache for a window: the caller owns it now. Null when it has none, or it expired.</summary>
    /// <param name="session">The session.</param>
    public StreamCache? Take(StreamSession session)
    {
        lock (_lock)
        {
            if (session.Node is not { } node)
            {
                return null;
            }

            _held.Remove(node);
            session.Node = null;
            var cache = session.Cache;
            session.Cache = null;
            if (cache is not null && Expired(session))
            {
                Interlocked.Increment(ref _expirations);
                cache.Dispose();
                return null;
            }

            return cache;
        }
    }

    /// <summary>Keeps a window's new cache for the session's next window, evicting the least recently used other cache
    /// when every place is taken; a closed session's cache, or any cache once the store is disposed, is disposed.</summary>
    /// <param name="session">The session.</param>
    /// <param name="cache">The cache, owned by the store from now on.</param>
    public void Keep(StreamSession session, StreamCache cache)
    {
        lock (_lock)
        {
            if (_disposed || session.Closed || Capacity == 0)
            {
                cache.Dispose();
                return;
            }

            SweepLocked();
            while (_held.Count >= Capacity)
            {
                var oldest = _held.Last!.Value;
                Drop(oldest);
                Interlocked.Increment(ref _evictions);
            }

            session.Cache = cache;
            session.LastUsed = _time.GetTimestamp();
            session.Node = _held.AddFirst(session);
        }
    }

    /// <summary>Closes a session: its held cache is disposed now; a window still running disposes its own at the end.</summary>
    /// <param name="session">The session.</param>
    public void Close(StreamSession session)
    {
        lock (_lock)
        {
            if (session.Closed)
            {
                return;
            }

            session.Closed = true;
            Interlocked.Decrement(ref _open);
            if (session.Node is not null)
            {
                Drop(session);
            }
        }
    }

    /// <summary>Drops every cache whose idle timeout has passed.</summary>
    public void Sweep()
    {
        lock (_lock)
        {
            SweepLocked();
        }
    }

    /// <summary>Disposes every held cache; later windows keep nothing.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            while (_held.Last is { } last)
            {
                Drop(last.Value);
            }
        }

        _sweeper?.Dispose();
    }

    private void SweepLocked()
    {
        // Most recently used first: the expired ones are at the end.
        while (_held.Last is { } last && Expired(last.Value))
        {
            Drop(last.Value);
            Interlocked.Increment(ref _expirations);
        }
    }

    private bool Expired(StreamSession session) => _time.GetElapsedTime(session.LastUsed) >= IdleTimeout;

    /// <summary>Removes a held session's cache and disposes it; under the lock.</summary>
    private void Drop(StreamSession session)
    {
        _held.Remove(session.Node!);
        session.Node = null;
        session.Cache?.Dispose();
        session.Cache = null;
    }
}
