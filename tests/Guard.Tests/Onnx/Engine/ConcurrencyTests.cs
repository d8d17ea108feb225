using Guard.Conversations;
using Guard.Engines;
using Guard.Onnx.Engine;
using Guard.Verdicts;
using Microsoft.ML.OnnxRuntime;

namespace Guard.Tests.Onnx.Engine;

/// <summary>Parallel calls, the in-flight bound, cancellation and shut-down.</summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class ConcurrencyTests(TinyModelFixture fixture)
{
    [Fact]
    public async Task ParallelCalls_GiveTheSequentialResults()
    {
        using var engine = fixture.CreateEngine(o => o.MaxConcurrency = 8);
        var conversations = Conversations.All().ToArray();
        var sequential = new List<GuardVerdict>();
        foreach (var c in conversations)
        {
            sequential.Add(await engine.ClassifyAsync(c, CancellationToken.None));
        }

        var parallel = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => engine.ClassifyAsync(conversations[i % conversations.Length], CancellationToken.None).AsTask())));
        for (var i = 0; i < parallel.Length; i++)
        {
            var expected = sequential[i % conversations.Length];
            Assert.Equal(expected.RawOutput, parallel[i].RawOutput);
            Assert.Equal(expected.Status, parallel[i].Status);
            Assert.Equal(expected.UnsafeProbability!.Value, parallel[i].UnsafeProbability!.Value, 1e-6);
        }

        var stats = engine.Statistics;
        Assert.Equal(64 + conversations.Length, stats.Calls);
        Assert.Equal(0, stats.Failures);
        Assert.Equal(0, stats.InFlight);
        Assert.Equal(GuardHealthStatus.Healthy, engine.Health.Status);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task InFlightCalls_NeverExceedMaxConcurrency(int maxConcurrency)
    {
        using var engine = fixture.CreateEngine(o => o.MaxConcurrency = maxConcurrency);
        var conversations = Conversations.All().ToArray();
        var batch = Enumerable.Range(0, 48).Select(i => conversations[i % conversations.Length]).ToArray();
        var verdicts = await engine.ClassifyBatchAsync(batch, CancellationToken.None);

        Assert.Equal(48, verdicts.Count);
        var stats = engine.Statistics;
        Assert.InRange(stats.PeakInFlight, 1, maxConcurrency);
        if (maxConcurrency > 1)
        {
            // 48 calls queued at once: the bound is reached, so the engine really runs calls in parallel.
            Assert.Equal(maxConcurrency, stats.PeakInFlight);
        }
    }

    [Fact]
    public async Task AlreadyCancelledToken_ThrowsOperationCanceled_NotAGuardFailure()
    {
        using var engine = fixture.CreateEngine();
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.ClassifyAsync(GuardConversation.ForPrompt("Hi"), cts.Token).AsTask());
        Assert.Equal(0, engine.Statistics.Failures);
        Assert.Equal(GuardHealthStatus.Healthy, engine.Health.Status);
    }

    [Fact]
    public async Task CancellationWhileWaitingForASlot_IsHonoured()
    {
        using var engine = fixture.CreateEngine(o => o.MaxConcurrency = 1);
        var conversation = GuardConversation.ForPrompt("Hello there");
        using var cts = new CancellationTokenSource();
        // Keep the single slot busy with a stream of calls, then cancel the waiters.
        var busy = Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                await engine.ClassifyAsync(conversation, CancellationToken.None);
            }
        });
        var waiters = Enumerable.Range(0, 20).Select(_ => Task.Run(() => engine.ClassifyAsync(conversation, cts.Token).AsTask())).ToArray();
        await Task.Delay(5);
        await cts.CancelAsync();
        await busy;
        var cancelled = 0;
        foreach (var waiter in waiters)
        {
            try
            {
                await waiter;
            }
            catch (OperationCanceledException)
            {
                cancelled++;
            }
        }

        Assert.True(cancelled > 0, "no call was cancelled");
        Assert.Equal(0, engine.Statistics.Failures);
        Assert.Equal(0, engine.Statistics.InFlight);
        var after = await engine.ClassifyAsync(conversation, CancellationToken.None);
        Assert.NotNull(after.UnsafeProbability);
    }

    [Fact]
    public void TerminateFlag_StopsARunningPass_AndTheEngineTurnsItIntoCancellation()
    {
        using var engine = fixture.CreateEngine();
        var (ids, _) = engine.EncodeConversation(GuardConversation.ForPrompt("Hi"));
        using var runOptions = new RunOptions { Terminate = true };
        // ONNX Runtime refuses to run with the flag set: this is what a cancelled token does to a pass in flight.
        Assert.Throws<OnnxRuntimeException>(() => engine.Generator.Generate(ids, null, 4, StopRule.Exact, [], runOptions, CancellationToken.None));
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        using var fresh = new RunOptions();
        Assert.ThrowsAny<OperationCanceledException>(() => engine.Generator.Generate(ids, null, 4, StopRule.Exact, [], fresh, cts.Token));
    }

    [Fact]
    public async Task CallsAfterDispose_FailAsGuardFailures()
    {
        var engine = fixture.CreateEngine();
        await engine.ClassifyAsync(GuardConversation.ForPrompt("Hi"), CancellationToken.None);
        engine.Dispose();
        engine.Dispose();
        var ex = await Assert.ThrowsAsync<GuardEngineException>(() => engine.ClassifyAsync(GuardConversation.ForPrompt("Hi"), CancellationToken.None).AsTask());
        Assert.True(ex.Transient);
    }

    [Fact]
    public async Task PromptLongerThanTheContext_IsTruncatedByTheRule_NotAnError()
    {
        using var engine = fixture.CreateEngine(o => o.ContextTokens = 1100);
        var longText = string.Join(' ', Enumerable.Repeat("This sentence is filler text.", 200));
        var verdict = await engine.ClassifyAsync(GuardConversation.ForPrompt(longText), CancellationToken.None);
        Assert.True(verdict.Truncated);
        var (ids, _) = engine.EncodeConversation(GuardConversation.ForPrompt(longText));
        Assert.InRange(ids.Length, 900, 1100 - 12);
    }

    [Fact]
    public async Task RawPromptLongerThanTheContext_IsAGuardFailure()
    {
        using var engine = fixture.CreateEngine(o => o.ContextTokens = 1100);
        var longText = string.Join(' ', Enumerable.Repeat("This sentence is filler text.", 300));
        var ex = await Assert.ThrowsAsync<GuardEngineException>(() => engine.CompleteAsync(longText, 4, CancellationToken.None).AsTask());
        Assert.Contains("context", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancellationDuringInference_StopsTheCall_WithoutAFailure()
    {
        using var engine = fixture.CreateEngine(o => o.PrefixReuse = false);
        var conversation = GuardConversation.ForPrompt("A sentence to classify.");
        int[] ids = [1, 319, 10541, 29889];
        using var cts = new CancellationTokenSource();

        // A long exact generation; the token is cancelled once the call is inside inference, so the cancellation lands
        // there whatever the machine's speed.
        var call = engine.InferAsync(ids, null, 400, StopRule.Exact, [], cts.Token).AsTask();
        while (engine.Statistics.InFlight == 0 && !call.IsCompleted)
        {
            await Task.Yield();
        }
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        var stats = engine.Statistics;
        Assert.Equal(1, stats.Cancelled);
        Assert.True(stats.ForwardPasses < 400, "the generation ran to its end before the cancellation");
        Assert.Equal(0, stats.Failures);
        Assert.Equal(GuardHealthStatus.Healthy, engine.Health.Status);
        Assert.NotNull((await engine.ClassifyAsync(conversation, CancellationToken.None)).UnsafeProbability);
    }

    [Fact]
    public async Task InferenceError_IsAGuardFailure_AndMarksHealth()
    {
        using var engine = fixture.CreateEngine();
        // Ids outside the vocabulary make ONNX Runtime's Gather fail inside the pass, as a corrupt input would.
        int[] bad = [1, 40_000, 3];
        for (var i = 0; i < 3; i++)
        {
            var ex = await Assert.ThrowsAsync<GuardEngineException>(() => engine.InferAsync(bad, null, 2, StopRule.Exact, [], CancellationToken.None).AsTask());
            Assert.Contains("inference failed", ex.Message, StringComparison.Ordinal);
            Assert.IsType<OnnxRuntimeException>(ex.InnerException);
        }

        Assert.Equal(3, engine.Statistics.Failures);
        Assert.Equal(GuardHealthStatus.Unhealthy, engine.Health.Status);
        Assert.NotNull((await engine.ClassifyAsync(GuardConversation.ForPrompt("Hi"), CancellationToken.None)).UnsafeProbability);
        Assert.Equal(GuardHealthStatus.Healthy, engine.Health.Status);
    }
}
