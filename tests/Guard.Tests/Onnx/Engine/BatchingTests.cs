using Guard.Conversations;
using Guard.Engines;
using Guard.Onnx.Engine;
using Guard.Prompts;
using Guard.Verdicts;
using Microsoft.Extensions.Time.Testing;

namespace Guard.Tests.Onnx.Engine;

/// <summary>
/// Dynamic batching: batched calls give the unbatched verdicts, a batch gathers by size or window, a cancelled call
/// leaves its batch alone, and a full queue holds callers back. Batches are held at <see cref="GuardBatcher.BeforeBatch"/>
/// so that their make-up does not depend on timing.
/// </summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class BatchingTests(TinyModelFixture fixture)
{
    [Theory]
    [InlineData("last-token")]
    [InlineData("all-logits")]
    [InlineData("shared-prefix")]
    public async Task BatchedCalls_GiveTheUnbatchedVerdicts(string graph)
    {
        var model = graph switch
        {
            "all-logits" => fixture.AllLogitsModelDirectory,
            "shared-prefix" => fixture.SharedPrefixModelDirectory,
            _ => fixture.ModelDirectory,
        };

        // The reference is always the standard graph, run call by call.
        using var single = fixture.CreateEngine();
        using var batched = fixture.CreateEngine(Batched(16), model);
        Assert.False(single.Batching);
        Assert.True(batched.Batching);

        var conversations = Enumerable.Range(0, 3).SelectMany(_ => Conversations.All()).ToArray();
        var raw = new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard1).Render(GuardConversation.ForPrompt("How do I bake bread?")).Full;
        var expected = new List<GuardVerdict>();
        foreach (var c in conversations)
        {
            expected.Add(await single.ClassifyAsync(c, CancellationToken.None));
        }

        var expectedCompletion = await single.CompleteAsync(raw, 7, CancellationToken.None);

        // The first call's batch is held, so every other call queues before the next batch is gathered: rows of
        // different lengths, both roles (two prefixes, never in one batch) and a completion with another stop rule.
        var hold = new BatchHold(batched.Batcher!);
        var first = batched.ClassifyAsync(conversations[0], CancellationToken.None).AsTask();
        await hold.Entered;
        var calls = conversations.Select(c => batched.ClassifyAsync(c, CancellationToken.None).AsTask()).ToArray();
        var completion = batched.CompleteAsync(raw, 7, CancellationToken.None).AsTask();
        Assert.Equal(conversations.Length + 1, batched.Batcher!.Queued);
        hold.Release();

        AssertSame(expected[0], await first);
        var verdicts = await Task.WhenAll(calls);
        for (var i = 0; i < verdicts.Length; i++)
        {
            AssertSame(expected[i], verdicts[i]);
        }

        var done = await completion;
        Assert.Equal(expectedCompletion.Text, done.Text);
        Assert.Equal(expectedCompletion.UnsafeProbability!.Value, done.UnsafeProbability!.Value, 1e-4 * expectedCompletion.UnsafeProbability.Value);

        var stats = batched.Statistics;
        Assert.Equal(conversations.Length + 2, stats.BatchedCalls);
        Assert.Equal(conversations.Length + 2, stats.PrefixHits);
        Assert.True(stats.Batches <= 5, $"{stats.Batches} batches for {stats.BatchedCalls} calls");
        Assert.Equal(0, stats.Failures);
        Assert.Equal(GuardHealthStatus.Healthy, batched.Health.Status);
    }

    [Fact]
    public async Task ABatch_StartsWhenFull_OrWhenItsWindowCloses()
    {
        var time = new FakeTimeProvider();
        using var engine = fixture.CreateEngine(o => { o.MaxBatchSize = 3; o.BatchWindow = TimeSpan.FromMilliseconds(5); o.MaxConcurrency = 1; }, time: time);
        var prompts = Conversations.Prompts.Select(GuardConversation.ForPrompt).ToArray();

        // Three calls fill a batch: it runs without the clock moving.
        var full = prompts.Take(3).Select(c => engine.ClassifyAsync(c, CancellationToken.None).AsTask()).ToArray();
        await Task.WhenAll(full);
        Assert.Equal(1, engine.Statistics.Batches);

        // Two calls wait for the window, and run together once it closes.
        var partial = prompts.Skip(3).Take(2).Select(c => engine.ClassifyAsync(c, CancellationToken.None).AsTask()).ToArray();
        await Task.Yield();
        Assert.All(partial, t => Assert.False(t.IsCompleted));

        // The batcher may start the window's timer just after this thread moves the clock; move it again until the
        // batch runs (bounded), never by less than the window.
        var both = Task.WhenAll(partial);
        for (var i = 0; i < 500 && !both.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(5));
            await Task.WhenAny(both, Task.Delay(20));
        }

        await both;
        var stats = engine.Statistics;
        Assert.Equal(2, stats.Batches);
        Assert.Equal(5, stats.BatchedCalls);
    }

    [Fact]
    public async Task ACallCancelledWhileQueued_OrInsideItsBatch_LeavesTheOtherCallsAlone()
    {
        using var single = fixture.CreateEngine();
        using var batched = fixture.CreateEngine(Batched(8));
        var prompts = Conversations.Prompts.Select(GuardConversation.ForPrompt).ToArray();
        var expected = new List<GuardVerdict>();
        foreach (var c in prompts)
        {
            expected.Add(await single.ClassifyAsync(c, CancellationToken.None));
        }

        var hold = new BatchHold(batched.Batcher!);
        var first = batched.ClassifyAsync(prompts[0], CancellationToken.None).AsTask();
        await hold.Entered;
        using var queued = new CancellationTokenSource();
        using var inBatch = new CancellationTokenSource();
        var tokens = new[] { CancellationToken.None, queued.Token, inBatch.Token, CancellationToken.None, CancellationToken.None, CancellationToken.None };
        var calls = prompts.Select((c, i) => batched.ClassifyAsync(c, tokens[i]).AsTask()).ToArray();

        // Cancelled while waiting: its caller is released at once and it never joins a batch.
        await queued.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => calls[1]);

        // Cancelled once its batch is gathered (the second batch's hold): the batch runs its other rows.
        var second = hold.Next();
        hold.Release();
        await second.Entered;
        await inBatch.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => calls[2]);
        second.Release();

        AssertSame(expected[0], await first);
        foreach (var i in new[] { 0, 3, 4, 5 })
        {
            AssertSame(expected[i], await calls[i]);
        }

        var stats = batched.Statistics;
        Assert.Equal(2, stats.Cancelled);
        Assert.Equal(0, stats.Failures);
        Assert.Equal(2, stats.Batches);
        Assert.Equal(1 + 5, stats.BatchedCalls); // the call cancelled while queued never ran
        Assert.Equal(GuardHealthStatus.Healthy, batched.Health.Status);
    }

    [Fact]
    public async Task ABatchWhoseCallsAreAllCancelled_StopsWithoutAFailure()
    {
        using var engine = fixture.CreateEngine(Batched(8));
        var prompts = Conversations.Prompts.Select(GuardConversation.ForPrompt).ToArray();
        var hold = new BatchHold(engine.Batcher!);
        using var cancel = new CancellationTokenSource();
        var calls = prompts.Take(3).Select(c => engine.ClassifyAsync(c, cancel.Token).AsTask()).ToArray();
        await hold.Entered;
        await cancel.CancelAsync();
        hold.Release();
        foreach (var call in calls)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        }

        // The engine goes on serving.
        var verdict = await engine.ClassifyAsync(prompts[0], CancellationToken.None);
        Assert.NotNull(verdict.UnsafeProbability);
        var stats = engine.Statistics;
        Assert.Equal(3, stats.Cancelled);
        Assert.Equal(0, stats.Failures);
        Assert.Equal(GuardHealthStatus.Healthy, engine.Health.Status);
    }

    [Fact]
    public async Task AFullQueue_HoldsCallersBack_AndTheyMayGiveUp()
    {
        using var engine = fixture.CreateEngine(o => { o.MaxBatchSize = 2; o.BatchWindow = TimeSpan.Zero; o.MaxConcurrency = 1; o.MaxQueuedCalls = 2; });
        var prompts = Conversations.Prompts.Select(GuardConversation.ForPrompt).ToArray();
        var hold = new BatchHold(engine.Batcher!);
        var running = engine.ClassifyAsync(prompts[0], CancellationToken.None).AsTask();
        await hold.Entered;

        // The only batch slot is held: two calls fill the queue, the third waits for room.
        var queued = prompts.Skip(1).Take(2).Select(c => engine.ClassifyAsync(c, CancellationToken.None).AsTask()).ToArray();
        Assert.Equal(2, engine.Batcher!.Queued);
        using var giveUp = new CancellationTokenSource();
        var waiting = engine.ClassifyAsync(prompts[3], giveUp.Token).AsTask();
        Assert.False(waiting.IsCompleted);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);

        hold.Release();
        await running;
        await Task.WhenAll(queued);
        var stats = engine.Statistics;
        Assert.Equal(3, stats.BatchedCalls);
        Assert.Equal(1, stats.Cancelled);
    }

    private static Action<OnnxGuardEngineOptions> Batched(int maxBatch) => o =>
    {
        o.MaxBatchSize = maxBatch;
        o.BatchWindow = TimeSpan.Zero;
        o.MaxConcurrency = 1;
    };

    private static void AssertSame(GuardVerdict expected, GuardVerdict actual)
    {
        Assert.Equal(expected.RawOutput, actual.RawOutput);
        Assert.Equal(expected.Status, actual.Status);
        var e = expected.UnsafeProbability!.Value;
        var a = actual.UnsafeProbability!.Value;
        Assert.True(Math.Abs(e - a) <= 1e-4 * Math.Max(e, 1e-12), $"unbatched {e:R}, batched {a:R}");
    }

    /// <summary>Holds the next batch at <see cref="GuardBatcher.BeforeBatch"/> until released; batches after it pass.</summary>
    private sealed class BatchHold
    {
        private readonly GuardBatcher _batcher;
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public BatchHold(GuardBatcher batcher)
        {
            _batcher = batcher;
            batcher.BeforeBatch = () =>
            {
                batcher.BeforeBatch = null;
                _entered.TrySetResult();
                return _release.Task;
            };
        }

        /// <summary>Completes when the held batch is about to run.</summary>
        public Task Entered => _entered.Task;

        /// <summary>Lets the held batch run.</summary>
        public void Release() => _release.TrySetResult();

        /// <summary>Holds the next batch to reach the hook (call once this hold's batch has entered).</summary>
        public BatchHold Next() => new(_batcher);
    }
}
