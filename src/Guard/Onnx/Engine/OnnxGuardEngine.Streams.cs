using System.Diagnostics;
using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;
using Guard.Verdicts;
using Microsoft.ML.OnnxRuntime;

namespace Guard.Onnx.Engine;

/// <summary>Stream sessions: a stream's KV cache kept between its windows (docs/adr/012-stream-sessions.md).</summary>
public sealed partial class OnnxGuardEngine : IGuardStreamEngine
{
    private long _tokensRun;
    private long _streamWindows;
    private long _streamWindowsContinued;
    private long _streamTokensReused;
    private long _streamCompactions;

    /// <summary>When a session's stale slots are dropped (the benchmark compares rules).</summary>
    internal StreamCompaction StreamCompaction { get; set; } = StreamCompaction.Default;

    /// <summary>Runs in a window right after it took its session's cache, before any pass (tests cancel or fail a window
    /// there).</summary>
    internal Action<StreamSession>? WindowStarted { get; set; }

    /// <summary>The sessions' caches (tests read it).</summary>
    internal StreamSessionStore Streams => _streams;

    /// <inheritdoc />
    /// <remarks>Null when <see cref="OnnxGuardEngineOptions.MaxStreamSessions"/> is 0: every window is then a plain
    /// call. The number of open sessions is not bounded, only the caches they hold between windows.</remarks>
    /// <exception cref="GuardEngineException">The engine has been shut down.</exception>
    public IGuardStreamSession? OpenStream()
    {
        ThrowIfDisposed();
        return _streams.Capacity == 0 ? null : _streams.Open(this);
    }

    /// <summary>Classifies one window of a stream: as <see cref="ClassifyAsync"/>, but starting from the session's cache
    /// where the prompt's ids still equal the ids it holds.</summary>
    internal async ValueTask<GuardVerdict> ClassifyInStreamAsync(StreamSession session, GuardConversation conversation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var started = Stopwatch.GetTimestamp();
        var renderer = _renderers.Get(conversation.Taxonomy);
        var (ids, truncated) = Encode(renderer, conversation);
        if (ids.Length + _maxCategoryTokens > ContextTokens)
        {
            throw new GuardEngineException($"{Name}: the prompt has {ids.Length} tokens; with {_maxCategoryTokens} answer tokens it exceeds the {ContextTokens}-token context");
        }

        var prefix = ReferenceEquals(renderer, _renderers.Default)
            ? new PrefixSource(_prefixes?.Get(conversation.Role), null, conversation.Role)
            : new PrefixSource(null, renderer, conversation.Role);
        ThrowIfDisposed();
        Generation generation;
        await session.WaitTurnAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                ThrowIfDisposed();
                generation = await TrackAsync(
                    async () =>
                    {
                        var window = await _threads.Run(() => RunWindow(session, ids, prefix, cancellationToken), cancellationToken).ConfigureAwait(false);
                        CountStream(window);
                        return window.Generation;
                    },
                    batched: false,
                    cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
        finally
        {
            session.EndTurn();
        }

        var text = _encoder.Tokenizer.Decode([.. _encoder.LeadIn, .. generation.Tokens]);
        var parsed = GuardVerdictParser.Parse(text, renderer.Taxonomy);
        return GuardVerdict.FromParsed(parsed, Name, Model, Stopwatch.GetElapsedTime(started), generation.UnsafeProbability, truncated);
    }

    private StreamWindow RunWindow(StreamSession session, int[] ids, PrefixSource prefix, CancellationToken cancellationToken)
    {
        using var runOptions = new RunOptions();
        // Disposed before runOptions: disposing a registration waits for a running callback.
        using var registration = cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, runOptions);
        StreamCache? cache = null;
        try
        {
            // Taken out of the store for the window: a failure or cancellation from here on drops it.
            cache = _streams.Take(session);
            WindowStarted?.Invoke(session);
            var lease = default(PrefixCache.Lease);
            var entry = prefix.Entry;
            if (prefix.Custom is { } custom && !Continues(cache, ids))
            {
                lease = AcquireCustomPrefix(custom, prefix.Role, runOptions);
                entry = lease.Entry;
            }

            StreamWindow window;
            using (lease)
            {
                var owned = cache;
                cache = null;
                window = _streamDecoder.Generate(ids, owned, entry, StreamCompaction, ContextTokens, _maxCategoryTokens, StopRule.Verdict, [], runOptions, cancellationToken);
            }

            _streams.Keep(session, window.Cache);
            return window;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw InferenceFailure(ex, cancellationToken);
        }
        finally
        {
            cache?.Dispose();
        }
    }

    /// <summary>Whether a window continues the session's cache without needing its role's prefix (the cache already
    /// holds that prefix, and the prompt still starts with it).</summary>
    private static bool Continues(StreamCache? cache, int[] ids) =>
        cache is not null && cache.PrefixLength > 0 && StreamCache.CommonPrefix(ids, cache.Ids) >= cache.PrefixLength;

    /// <summary>Counts what is particular to a stream window; the call itself is counted as any call's.</summary>
    private void CountStream(StreamWindow window)
    {
        Interlocked.Increment(ref _streamWindows);
        if (window.Continued)
        {
            Interlocked.Increment(ref _streamWindowsContinued);
            Interlocked.Add(ref _streamTokensReused, window.TokensReused);
        }

        if (window.Compacted || window.Restarted)
        {
            Interlocked.Increment(ref _streamCompactions);
        }
    }
}
