using System.Collections.Concurrent;

namespace Guard.Onnx.Engine;

/// <summary>
/// The engine's own threads for forward passes: a pass blocks its thread for milliseconds to seconds, and on the
/// thread pool a busy engine would hold the threads the host needs for its sockets (the pool adds threads only slowly).
/// One thread per concurrent call or batch (<see cref="OnnxGuardEngineOptions.MaxConcurrency"/>); the engine's gate
/// keeps the queue short. Callers resume on the thread pool, never on these threads.
/// </summary>
internal sealed class InferenceThreads : IDisposable
{
    private readonly BlockingCollection<Action> _work = [];
    private readonly Thread[] _threads;

    /// <summary>Starts the threads.</summary>
    /// <param name="count">Threads.</param>
    /// <param name="name">The engine's name, for thread names.</param>
    public InferenceThreads(int count, string name)
    {
        _threads = new Thread[count];
        for (var i = 0; i < count; i++)
        {
            _threads[i] = new Thread(Work)
            {
                IsBackground = true,
                Name = $"{name} inference {i + 1}",
            };
            _threads[i].Start();
        }
    }

    /// <summary>Runs <paramref name="work"/> on one of the threads.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="work">The work.</param>
    /// <param name="cancellationToken">Cancels the work if it has not started.</param>
    public Task<T> Run<T>(Func<T> work, CancellationToken cancellationToken = default)
    {
        var completion = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        _work.Add(() =>
        {
            if (cancellationToken.IsCancellationRequested)
            {
                completion.TrySetCanceled(cancellationToken);
                return;
            }

            try
            {
                completion.TrySetResult(work());
            }
            catch (OperationCanceledException ex)
            {
                completion.TrySetCanceled(ex.CancellationToken);
            }
            catch (Exception ex)
            {
                completion.TrySetException(ex);
            }
        },
        CancellationToken.None);
        return completion.Task;
    }

    /// <summary>Lets queued work finish, then ends the threads.</summary>
    public void Dispose()
    {
        _work.CompleteAdding();
        foreach (var thread in _threads)
        {
            if (thread != Thread.CurrentThread)
            {
                thread.Join();
            }
        }

        _work.Dispose();
    }

    private void Work()
    {
        foreach (var work in _work.GetConsumingEnumerable())
        {
            work();
        }
    }
}
