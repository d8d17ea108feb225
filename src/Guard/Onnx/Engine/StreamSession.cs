using System.Diagnostics.CodeAnalysis;
using Guard.Conversations;
using Guard.Engines;
using Guard.Verdicts;

namespace Guard.Onnx.Engine;

/// <summary>
/// One stream's checks on an <see cref="OnnxGuardEngine"/>: each window continues the KV cache the previous window left
/// (kept in the engine's <see cref="StreamSessionStore"/>), so it runs only its new ids and the prompt's fixed suffix
/// (docs/adr/012-stream-sessions.md). Calls are serialized; a cancelled or failed window drops the cache, and the next
/// window starts from the cached prefix.
/// </summary>
internal sealed class StreamSession : IGuardStreamSession
{
    private readonly OnnxGuardEngine _engine;
    private readonly StreamSessionStore _store;

    [SuppressMessage("Usage", "CA2213:Disposable fields should be disposed", Justification = "A window waiting for its turn must wake up after Dispose; a disposed SemaphoreSlim would strand it. It holds no wait handle.")]
    private readonly SemaphoreSlim _turn = new(1, 1);

    public StreamSession(OnnxGuardEngine engine, StreamSessionStore store)
    {
        _engine = engine;
        _store = store;
    }

    /// <summary>The cache held between windows; under the store's lock.</summary>
    internal StreamCache? Cache { get; set; }

    /// <summary>The session's place in the store's recency list while it holds a cache; under the store's lock.</summary>
    internal LinkedListNode<StreamSession>? Node { get; set; }

    /// <summary>When the cache was last kept (<see cref="TimeProvider.GetTimestamp"/>); under the store's lock.</summary>
    internal long LastUsed { get; set; }

    /// <summary>Whether the session was disposed; under the store's lock.</summary>
    internal bool Closed { get; set; }

    /// <summary>The store the session keeps its cache in.</summary>
    internal StreamSessionStore Store => _store;

    /// <inheritdoc />
    public ValueTask<GuardVerdict> ClassifyAsync(GuardConversation conversation, CancellationToken cancellationToken) =>
        _engine.ClassifyInStreamAsync(this, conversation, cancellationToken);

    /// <summary>Waits for the session's previous window to finish.</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    internal Task WaitTurnAsync(CancellationToken cancellationToken) => _turn.WaitAsync(cancellationToken);

    /// <summary>Lets the next window run.</summary>
    internal void EndTurn() => _turn.Release();

    /// <summary>Ends the session: its cache is released (a running window releases its own when it ends).</summary>
    public void Dispose() => _store.Close(this);
}
