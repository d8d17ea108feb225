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
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfDisposed();
            Interlocked.Increment(ref _calls);
            UpdatePeak(Interlocked.Increment(ref _inFlight));
            try
            {
                // Off the caller's thread: a request thread is not held by CPU-bound work, and a batch of calls runs in parallel.
                var generation = await Task.Run(() => Run(ids, prefix, maxTokens, rule, scoreAfter, cancellationToken), cancellationToken).ConfigureAwait(false);
                Interlocked.Add(ref _forwardPasses, generation.Tokens.Length);
                Interlocked.Add(ref _tokensRun, generation.TokensRun);
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
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
        finally
        {
            _gate.Release();
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
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested && ex is OnnxRuntimeException)
        {
            // The terminate flag stopped the pass.
            throw new OperationCanceledException("The guard call was cancelled.", ex, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Any failure inside inference (ONNX Runtime, shapes, NaN logits) is a guard failure for the policy's fail
            // mode to handle, never a crash of the request or the process.
            throw new GuardEngineException($"{Name}: inference failed on {ExecutionProvider} ({ex.GetType().Name}: {ex.Message})", transient: false, ex);
        }
    }

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
