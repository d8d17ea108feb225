using System.Threading.Channels;
using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;
using Microsoft.ML.OnnxRuntime;

namespace Guard.Onnx.Engine;

/// <summary>The bounded, cancellable inference call.</summary>
public sealed partial class OnnxGuardEngine
{
    internal ValueTask<Generation> InferAsync(int[] ids, PrefixEntry? prefix, int maxTokens, StopRule rule, int[] scoreAfter, CancellationToken cancellationToken) =>
        InferAsync(ids, new PrefixSource(prefix, null, prefix?.Role ?? GuardRole.User), maxTokens, rule, scoreAfter, cancellationToken);

    private async ValueTask<Generation> InferAsync(int[] ids, PrefixSource prefix, int maxTokens, StopRule rule, int[] scoreAfter, CancellationToken cancellationToken)
    {
        if (ids.Length + (rule == StopRule.Verdict ? maxTokens : 0) > ContextTokens)
        {
            throw new GuardEngineException($"{Name}: the prompt has {ids.Length} tokens; with {maxTokens} answer tokens it exceeds the {ContextTokens}-token context");
        }

        ThrowIfDisposed();
        if (_batcher is not null && prefix.Custom is null)
        {
            // Batched: the batcher takes the engine's gate per batch, not per call.
            var entry = prefix.Entry;
            var reuse = entry is not null && ids.Length > entry.Ids.Length && ids.AsSpan().StartsWith(entry.Ids);
            var call = new BatchCall(ids, reuse ? entry : null, entry is not null && !reuse, maxTokens, rule, scoreAfter, cancellationToken);
            return await TrackAsync(() => _batcher.RunAsync(call), batched: true, cancellationToken).ConfigureAwait(false);
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();

            // On the engine's threads: neither the caller's nor the thread pool's threads are held by the pass.
            return await TrackAsync(() => _threads.Run(() => Run(ids, prefix, maxTokens, rule, scoreAfter, cancellationToken), cancellationToken), batched: false, cancellationToken)
                .ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Counts a call, its outcome and its prefix use, and keeps the engine's health.</summary>
    /// <param name="call">Starts the call.</param>
    /// <param name="batched">Whether the call runs in a batch.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    private async Task<Generation> TrackAsync(Func<Task<Generation>> call, bool batched, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        UpdatePeak(Interlocked.Increment(ref _inFlight));
        try
        {
            var generation = await call().ConfigureAwait(false);
            Interlocked.Add(ref _tokensRun, generation.TokensRun);
            if (!batched)
            {
                // A batch counts its passes once for all its calls (RunBatch).
                Interlocked.Add(ref _forwardPasses, generation.Tokens.Length);
            }

            if (generation.PrefixReused)
            {
                Interlocked.Increment(ref _prefixHits);
            }
            else if (generation.PrefixMismatch)
            {
                Interlocked.Increment(ref _prefixMisses);
            }

            _health.Success();
            return generation;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _cancelled);
            throw;
        }
        catch (GuardEngineException ex)
        {
            Interlocked.Increment(ref _failures);
            _health.Failure(ex.Message);
            throw;
        }
        catch (ChannelClosedException ex)
        {
            throw new GuardEngineException($"{Name}: the engine has been shut down", transient: true, ex);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    /// <summary>Runs one batch of calls that share a prefix (the batcher's runner); failures become guard failures.</summary>
    private Generation[] RunBatch(IReadOnlyList<BatchCall> calls, RunOptions runOptions)
    {
        try
        {
            var (generations, passes) = _batchDecoder!.Generate(calls, calls[0].Prefix, runOptions);
            Interlocked.Add(ref _forwardPasses, passes);
            return generations;
        }
        catch (Exception ex) when (ex is not OperationCanceledException && !runOptions.Terminate)
        {
            throw InferenceFailure(ex, CancellationToken.None);
        }
    }

    private Generation Run(int[] ids, PrefixSource prefix, int maxTokens, StopRule rule, int[] scoreAfter, CancellationToken cancellationToken)
    {
        using var runOptions = new RunOptions();
        // Disposed before runOptions: disposing a registration waits for a running callback, so Terminate never
        // touches a released handle.
        using var registration = cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, runOptions);
        try
        {
            if (prefix.Custom is not { } custom)
            {
                return _generator.Generate(ids, prefix.Entry, maxTokens, rule, scoreAfter, runOptions, cancellationToken);
            }

            // Held until the generation ends: an evicted custom prefix is only freed once no call reads it.
            using var lease = AcquireCustomPrefix(custom, prefix.Role, runOptions);
            return _generator.Generate(ids, lease.Entry, maxTokens, rule, scoreAfter, runOptions, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw InferenceFailure(ex, cancellationToken);
        }
    }

    /// <summary>What a failure inside inference becomes: an ONNX Runtime error after the caller cancelled is the terminate
    /// flag stopping the pass (a cancellation); anything else (ONNX Runtime, shapes, NaN logits) a guard failure for the
    /// policy's fail mode to handle, never a crash of the request or the process.</summary>
    private Exception InferenceFailure(Exception ex, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested && ex is OnnxRuntimeException
            ? new OperationCanceledException("The guard call was cancelled.", ex, cancellationToken)
            : new GuardEngineException($"{Name}: inference failed on {ExecutionProvider} ({ex.GetType().Name}: {ex.Message})", transient: false, ex);

    /// <summary>The cached prefix of a custom taxonomy, computed first when missing; an empty lease when custom
    /// prefixes are not cached (the prompt then runs whole).</summary>
    private PrefixCache.Lease AcquireCustomPrefix(LlamaGuardPromptRenderer custom, GuardRole role, RunOptions runOptions)
    {
        if (_prefixes is null)
        {
            return default;
        }

        if (_prefixes.CustomCapacity == 0)
        {
            Interlocked.Increment(ref _customWholeRuns);
            return default;
        }

        return _prefixes.Acquire(custom.Taxonomy, role, () => _encoder.Encode(custom.GetPrefixSegments(role), withLeadIn: false), runOptions);
    }

    private void ThrowIfDisposed()
    {
        if (_disposed)
        {
            throw new GuardEngineException($"{Name}: the engine has been shut down", transient: true, new ObjectDisposedException(nameof(OnnxGuardEngine)));
        }
    }

    private void UpdatePeak(int current)
    {
        var peak = Volatile.Read(ref _peakInFlight);
        while (current > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peakInFlight, current, peak);
            if (seen == peak)
            {
                return;
            }

            peak = seen;
        }
    }

    /// <summary>Where a call's prompt starts: a cached prefix of the engine's own taxonomy, or a custom taxonomy's
    /// renderer whose prefix is leased (and computed on first use) when the call runs.</summary>
    /// <param name="Entry">The engine's own prefix, or null to run the prompt whole.</param>
    /// <param name="Custom">The renderer of the conversation's own taxonomy, or null.</param>
    /// <param name="Role">The role being classified.</param>
    private readonly record struct PrefixSource(PrefixEntry? Entry, LlamaGuardPromptRenderer? Custom, GuardRole Role);
}
