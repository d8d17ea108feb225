using System.Threading.Channels;
using Microsoft.ML.OnnxRuntime;

namespace Guard.Onnx.Engine;

/// <summary>
/// Dynamic batching: gathers concurrent guard calls into batches that share a prefix and runs each batch as one padded
/// forward pass (docs/adr/006).
/// </summary>
/// <remarks>
/// <para>Calls wait in a bounded queue (a full queue makes callers wait: back-pressure that honours their cancellation).
/// One loop takes a batch slot (the engine's concurrency gate), then the first waiting call, then every waiting call of
/// the same prefix, and, while the batch is not full, whatever arrives within the window. While all slots are busy,
/// calls gather in the queue, so batches grow with the load.</para>
/// <para>Cancellation is per call: a cancelled call's caller is released at once and its row's result dropped; the batch's
/// pass is terminated only when every call in it is cancelled.</para>
/// </remarks>
internal sealed class GuardBatcher
{
    private readonly Channel<BatchCall> _queue;
    private readonly SemaphoreSlim _slots;
    private readonly InferenceThreads _threads;
    private readonly Func<IReadOnlyList<BatchCall>, RunOptions, Generation[]> _run;
    private readonly int _maxBatch;
    private readonly TimeSpan _window;
    private readonly TimeProvider _time;
    private readonly List<BatchCall> _carried = [];
    private readonly Task _loop;
    private long _batches;
    private long _batchedCalls;
    private volatile bool _stopping;

    /// <summary>Starts the batching loop.</summary>
    /// <param name="slots">Batches that may run at once; a slot is taken before a batch is gathered.</param>
    /// <param name="threads">Where batches run.</param>
    /// <param name="run">Runs one batch (all calls share a prefix) and returns a generation per call, in order.</param>
    /// <param name="maxBatch">Most calls per batch.</param>
    /// <param name="window">How long a batch waits for more calls after its first.</param>
    /// <param name="maxQueued">Most calls waiting.</param>
    /// <param name="time">The clock of the window.</param>
    public GuardBatcher(SemaphoreSlim slots, InferenceThreads threads, Func<IReadOnlyList<BatchCall>, RunOptions, Generation[]> run, int maxBatch, TimeSpan window, int maxQueued, TimeProvider time)
    {
        _slots = slots;
        _threads = threads;
        _run = run;
        _maxBatch = maxBatch;
        _window = window;
        _time = time;
        _queue = Channel.CreateBounded<BatchCall>(new BoundedChannelOptions(maxQueued)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Runs before each gathered batch is executed, after calls cancelled while waiting are dropped (tests hold batches here).</summary>
    internal Func<Task>? BeforeBatch { get; set; }

    /// <summary>Calls waiting in the queue (not yet gathered into a batch).</summary>
    public int Queued => _queue.Reader.Count;

    /// <summary>Batches run so far.</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Calls run in batches so far.</summary>
    public long BatchedCalls => Interlocked.Read(ref _batchedCalls);

    /// <summary>Queues a call and waits for its generation.</summary>
    /// <param name="call">The call.</param>
    /// <exception cref="OperationCanceledException">The call's token was cancelled (while queued or running).</exception>
    /// <exception cref="ChannelClosedException">The batcher has stopped.</exception>
    public async Task<Generation> RunAsync(BatchCall call)
    {
        await _queue.Writer.WriteAsync(call, call.CancellationToken).ConfigureAwait(false);
        using var registration = call.CancellationToken.Register(
            static state =>
            {
                var c = (BatchCall)state!;
                c.Completion.TrySetCanceled(c.CancellationToken);
            },
            call);
        return await call.Completion.Task.ConfigureAwait(false);
    }

    /// <summary>Stops taking calls, fails those still waiting, and waits for the loop (running batches finish on their own).</summary>
    /// <param name="reason">The failure waiting calls get.</param>
    public void Stop(Exception reason)
    {
        _stopping = true;
        _queue.Writer.TryComplete();
        try
        {
            _loop.Wait();
        }
        catch (AggregateException)
        {
            // The loop only ends by the queue's completion; anything else was already reported to its calls.
        }

        foreach (var call in _carried)
        {
            call.Completion.TrySetException(reason);
        }

        _carried.Clear();
        while (_queue.Reader.TryRead(out var call))
        {
            call.Completion.TrySetException(reason);
        }
    }

    private async Task LoopAsync()
    {
        while (true)
        {
            await _slots.WaitAsync().ConfigureAwait(false);
            List<BatchCall>? batch;
            try
            {
                batch = _stopping ? null : await GatherAsync().ConfigureAwait(false);
            }
            catch
            {
                _slots.Release();
                throw;
            }

            if (batch is null)
            {
                _slots.Release();
                return;
            }

            _ = RunBatchAsync(batch);
        }
    }

    /// <summary>The next batch: the first live call and the live calls of its prefix waiting or arriving within the
    /// window; null once the queue is completed and empty.</summary>
    private async Task<List<BatchCall>?> GatherAsync()
    {
        var first = TakeCarried();
        while (first is null)
        {
            if (!await _queue.Reader.WaitToReadAsync().ConfigureAwait(false) || _stopping)
            {
                return null;
            }

            if (_queue.Reader.TryRead(out var call) && !call.Completion.Task.IsCompleted)
            {
                first = call;
            }
        }

        var batch = new List<BatchCall>(_maxBatch) { first };
        for (var i = 0; i < _carried.Count && batch.Count < _maxBatch; i++)
        {
            if (ReferenceEquals(_carried[i].Prefix, first.Prefix))
            {
                batch.Add(_carried[i]);
                _carried.RemoveAt(i--);
            }
        }

        var started = _time.GetTimestamp();
        while (batch.Count < _maxBatch && _carried.Count < 4 * _maxBatch)
        {
            if (_queue.Reader.TryRead(out var call))
            {
                if (call.Completion.Task.IsCompleted)
                {
                    continue;
                }

                if (ReferenceEquals(call.Prefix, first.Prefix))
                {
                    batch.Add(call);
                }
                else
                {
                    _carried.Add(call);
                }

                continue;
            }

            var remaining = _window - _time.GetElapsedTime(started);
            if (remaining <= TimeSpan.Zero || _stopping)
            {
                break;
            }

            using var stop = new CancellationTokenSource();
            var arrival = _queue.Reader.WaitToReadAsync(stop.Token).AsTask();
            var timeout = Task.Delay(remaining, _time, stop.Token);
            var done = await Task.WhenAny(arrival, timeout).ConfigureAwait(false);
            await stop.CancelAsync().ConfigureAwait(false);
            if (done == arrival && !arrival.Result)
            {
                break;
            }
        }

        return batch;
    }

    private BatchCall? TakeCarried()
    {
        while (_carried.Count > 0)
        {
            var call = _carried[0];
            _carried.RemoveAt(0);
            if (!call.Completion.Task.IsCompleted)
            {
                return call;
            }
        }

        return null;
    }

    private async Task RunBatchAsync(List<BatchCall> batch)
    {
        try
        {
            batch.RemoveAll(c => c.Completion.Task.IsCompleted);
            if (BeforeBatch is { } hook)
            {
                await hook().ConfigureAwait(false);
            }

            if (batch.Count > 0)
            {
                Interlocked.Increment(ref _batches);
                Interlocked.Add(ref _batchedCalls, batch.Count);
                await _threads.Run(() =>
                {
                    Execute(batch);
                    return true;
                }).ConfigureAwait(false);
            }
        }
        finally
        {
            _slots.Release();
        }
    }

    private void Execute(List<BatchCall> batch)
    {
        using var runOptions = new RunOptions();
        var live = new LiveCalls(batch.Count, runOptions);
        var registrations = new CancellationTokenRegistration[batch.Count];
        try
        {
            // Disposed before runOptions: disposing a registration waits for a running callback.
            for (var i = 0; i < batch.Count; i++)
            {
                registrations[i] = batch[i].CancellationToken.Register(static state => ((LiveCalls)state!).Leave(), live);
            }

            var generations = _run(batch, runOptions);
            for (var i = 0; i < batch.Count; i++)
            {
                batch[i].Completion.TrySetResult(generations[i]);
            }
        }
        catch (Exception ex)
        {
            foreach (var call in batch)
            {
                if (call.CancellationToken.IsCancellationRequested)
                {
                    call.Completion.TrySetCanceled(call.CancellationToken);
                }
                else
                {
                    call.Completion.TrySetException(ex);
                }
            }
        }
        finally
        {
            foreach (var registration in registrations)
            {
                registration.Dispose();
            }
        }
    }

    /// <summary>The live calls of a running batch; the pass is terminated when the last one leaves.</summary>
    private sealed class LiveCalls(int live, RunOptions runOptions)
    {
        private int _live = live;

        public void Leave()
        {
            if (Interlocked.Decrement(ref _live) == 0)
            {
                runOptions.Terminate = true;
            }
        }
    }
}
