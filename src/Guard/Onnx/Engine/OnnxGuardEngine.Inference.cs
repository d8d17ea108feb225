using Guard.Engines;
using Microsoft.ML.OnnxRuntime;

namespace Guard.Onnx.Engine;

/// <summary>The bounded, cancellable inference call.</summary>
public sealed partial class OnnxGuardEngine
{
    internal async ValueTask<Generation> InferAsync(int[] ids, PrefixEntry? prefix, int maxTokens, StopRule rule, int[] scoreAfter, CancellationToken cancellationToken)
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

    private Generation Run(int[] ids, PrefixEntry? prefix, int maxTokens, StopRule rule, int[] scoreAfter, CancellationToken cancellationToken)
    {
        using var runOptions = new RunOptions();
        // Disposed before runOptions: disposing a registration waits for a running callback, so Terminate never
        // touches a released handle.
        using var registration = cancellationToken.Register(static state => ((RunOptions)state!).Terminate = true, runOptions);
        try
        {
            return _generator.Generate(ids, prefix, maxTokens, rule, scoreAfter, runOptions, cancellationToken);
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
}
