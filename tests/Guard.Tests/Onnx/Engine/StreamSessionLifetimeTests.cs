using Guard.Engines;
using Guard.Onnx.Engine;
using Microsoft.Extensions.Time.Testing;
using static Guard.Tests.Onnx.Engine.StreamWindows;

namespace Guard.Tests.Onnx.Engine;

/// <summary>Stream sessions are bounded and robust: caches evicted least recently used, dropped when idle (on an
/// injected clock), dropped by a cancelled or failed window, released by Dispose; several sessions at once. A session
/// that lost its cache starts from the prefix and still scores as a full pass.</summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class StreamSessionLifetimeTests(TinyModelFixture fixture)
{
    [Fact]
    public async Task TheLeastRecentlyUsedCache_IsEvicted_AndItsSessionStartsAgainFromThePrefix()
    {
        using var engine = fixture.CreateEngine(o => o.MaxStreamSessions = 2);
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false);
        using var a = engine.OpenStream()!;
        using var b = engine.OpenStream()!;
        using var c = engine.OpenStream()!;
        await a.ClassifyAsync(Window("Sure. To bake"), CancellationToken.None);
        await b.ClassifyAsync(Window("Sure. To bake"), CancellationToken.None);
        await a.ClassifyAsync(Window("Sure. To bake a loaf"), CancellationToken.None);
        // b is now the least recently used: c's cache takes its place.
        await c.ClassifyAsync(Window("Sure. To bake"), CancellationToken.None);
        Assert.Equal(1, engine.Statistics.StreamCacheEvictions);
        Assert.Equal(2, engine.Statistics.StreamCachesHeld);

        var continuedBefore = engine.Statistics.StreamWindowsContinued;
        var window = Window("Sure. To bake a loaf, mix");
        AssertSameScore(await full.ClassifyAsync(window, CancellationToken.None), await b.ClassifyAsync(window, CancellationToken.None), "b after eviction");
        Assert.Equal(continuedBefore, engine.Statistics.StreamWindowsContinued);
        AssertSameScore(await full.ClassifyAsync(window, CancellationToken.None), await c.ClassifyAsync(window, CancellationToken.None), "c");
        Assert.Equal(continuedBefore + 1, engine.Statistics.StreamWindowsContinued);
        Assert.Equal(3, engine.Statistics.StreamSessionsOpen);
        Assert.Equal(2, engine.Statistics.StreamCachesHeld);
    }

    [Fact]
    public async Task AnIdleCache_IsDroppedAfterTheIdleTimeout_OnTheInjectedClock()
    {
        var time = new FakeTimeProvider();
        using var engine = OnnxGuardEngine.Create(
            new OnnxGuardEngineOptions { ModelDirectory = fixture.ModelDirectory, IntraOpThreads = 1, StreamSessionIdleTimeout = TimeSpan.FromSeconds(30) },
            time: time);
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false);
        using var session = engine.OpenStream()!;
        await session.ClassifyAsync(Window("Sure. To bake"), CancellationToken.None);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(1, engine.Statistics.StreamCachesHeld);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, engine.Statistics.StreamCachesHeld);
        Assert.Equal(1, engine.Statistics.StreamCacheExpirations);

        var window = Window("Sure. To bake a loaf");
        AssertSameScore(await full.ClassifyAsync(window, CancellationToken.None), await session.ClassifyAsync(window, CancellationToken.None), "after the idle timeout");
        Assert.Equal(0, engine.Statistics.StreamWindowsContinued);
        Assert.Equal(1, engine.Statistics.StreamCachesHeld);
    }

    [Fact]
    public async Task AWindowCancelledAfterTakingTheCache_DropsIt_AndTheNextWindowScoresAsAFullPass()
    {
        using var engine = fixture.CreateEngine();
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false);
        using var session = engine.OpenStream()!;
        await session.ClassifyAsync(Window("Sure. To bake"), CancellationToken.None);

        using var cts = new CancellationTokenSource();
        engine.WindowStarted = _ => cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => session.ClassifyAsync(Window("Sure. To bake a loaf"), cts.Token).AsTask());
        engine.WindowStarted = null;
        Assert.Equal(1, engine.Statistics.Cancelled);
        Assert.Equal(0, engine.Statistics.StreamCachesHeld);

        var window = Window("Sure. To bake a loaf, mix");
        AssertSameScore(await full.ClassifyAsync(window, CancellationToken.None), await session.ClassifyAsync(window, CancellationToken.None), "after the cancelled window");
        var again = Window("Sure. To bake a loaf, mix 500 g");
        AssertSameScore(await full.ClassifyAsync(again, CancellationToken.None), await session.ClassifyAsync(again, CancellationToken.None), "continuing");
        Assert.Equal(1, engine.Statistics.StreamWindowsContinued);
    }

    [Fact]
    public async Task AWindowCancelledBeforeItRuns_KeepsTheCache()
    {
        using var engine = fixture.CreateEngine();
        using var session = engine.OpenStream()!;
        await session.ClassifyAsync(Window("Sure. To bake"), CancellationToken.None);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => session.ClassifyAsync(Window("Sure. To bake a loaf"), new CancellationToken(true)).AsTask());
        await session.ClassifyAsync(Window("Sure. To bake a loaf"), CancellationToken.None);
        Assert.Equal(1, engine.Statistics.StreamWindowsContinued);
    }

    [Fact]
    public async Task AFailedWindow_IsAGuardEngineException_AndTheSessionGoesOn()
    {
        using var engine = fixture.CreateEngine();
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false);
        using var session = engine.OpenStream()!;
        await session.ClassifyAsync(Window("Sure. To bake"), CancellationToken.None);
        engine.WindowStarted = _ => throw new InvalidDataException("broken pass");
        await Assert.ThrowsAsync<GuardEngineException>(() => session.ClassifyAsync(Window("Sure. To bake a loaf"), CancellationToken.None).AsTask());
        engine.WindowStarted = null;
        Assert.Equal(1, engine.Statistics.Failures);
        Assert.Equal(0, engine.Statistics.StreamCachesHeld);

        var window = Window("Sure. To bake a loaf, mix");
        AssertSameScore(await full.ClassifyAsync(window, CancellationToken.None), await session.ClassifyAsync(window, CancellationToken.None), "after the failed window");
    }

    [Fact]
    public async Task DisposingASession_ReleasesItsCache_EvenWhileAWindowRuns()
    {
        using var engine = fixture.CreateEngine();
        var session = engine.OpenStream()!;
        await session.ClassifyAsync(Window("Sure. To bake"), CancellationToken.None);
        Assert.Equal(1, engine.Statistics.StreamCachesHeld);
        session.Dispose();
        Assert.Equal(0, engine.Statistics.StreamCachesHeld);
        Assert.Equal(0, engine.Statistics.StreamSessionsOpen);

        var other = engine.OpenStream()!;
        engine.WindowStarted = s => s.Dispose();
        await other.ClassifyAsync(Window("Sure. To bake"), CancellationToken.None);
        engine.WindowStarted = null;
        Assert.Equal(0, engine.Statistics.StreamCachesHeld);
        Assert.Equal(0, engine.Statistics.StreamSessionsOpen);
        Assert.Equal(2, engine.Statistics.StreamSessionsOpened);
    }

    [Fact]
    public async Task SeveralSessionsAtOnce_EachScoreAsFullPasses()
    {
        using var engine = fixture.CreateEngine(o => o.MaxConcurrency = 2);
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false);
        var responses = new[] { Response, Response[40..], "I can't help with that, but here is why: " + Response, Response.ToUpperInvariant() };
        var cuts = responses.Select(r => Cuts(r, 31)).ToArray();
        var expected = new List<double>[responses.Length];
        for (var s = 0; s < responses.Length; s++)
        {
            expected[s] = [];
            foreach (var cut in cuts[s])
            {
                expected[s].Add((await full.ClassifyAsync(Window(responses[s][..cut]), CancellationToken.None)).UnsafeProbability!.Value);
            }
        }

        var streams = Enumerable.Range(0, responses.Length).Select(async s =>
        {
            using var session = engine.OpenStream()!;
            var scores = new List<double>();
            foreach (var cut in cuts[s])
            {
                scores.Add((await session.ClassifyAsync(Window(responses[s][..cut]), CancellationToken.None)).UnsafeProbability!.Value);
            }

            return scores;
        }).ToArray();
        var results = await Task.WhenAll(streams);

        for (var s = 0; s < responses.Length; s++)
        {
            Assert.Equal(expected[s].Count, results[s].Count);
            for (var w = 0; w < results[s].Count; w++)
            {
                Assert.True(Math.Abs(results[s][w] - expected[s][w]) <= 1e-4 * Math.Max(expected[s][w], 1e-12), $"stream {s}, window {w}: {results[s][w]:R} vs {expected[s][w]:R}");
            }
        }

        var stats = engine.Statistics;
        Assert.Equal(cuts.Sum(c => c.Count) - responses.Length, stats.StreamWindowsContinued);
        Assert.InRange(stats.PeakInFlight, 1, 2);
        Assert.Equal(0, stats.StreamSessionsOpen);
        Assert.Equal(0, stats.StreamCachesHeld);
    }

    [Fact]
    public async Task TwoWindowsOfOneSessionAtOnce_RunOneAfterTheOther()
    {
        using var engine = fixture.CreateEngine();
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false);
        using var session = engine.OpenStream()!;
        var first = Window(Response[..40]);
        var second = Window(Response[..80]);
        var a = session.ClassifyAsync(first, CancellationToken.None).AsTask();
        var b = session.ClassifyAsync(second, CancellationToken.None).AsTask();
        await Task.WhenAll(a, b);
        AssertSameScore(await full.ClassifyAsync(first, CancellationToken.None), await a, "first");
        AssertSameScore(await full.ClassifyAsync(second, CancellationToken.None), await b, "second");
        Assert.Equal(1, engine.Statistics.PeakInFlight);
    }

    [Fact]
    public void WithoutStreamSessions_OpenStreamGivesNone()
    {
        using var engine = fixture.CreateEngine(o => o.MaxStreamSessions = 0);
        Assert.Null(engine.OpenStream());
    }

    [Fact]
    public void Options_RejectStreamSettingsOutOfRange()
    {
        Assert.Contains(new OnnxGuardEngineOptions { ModelDirectory = "m", MaxStreamSessions = -1 }.Validate(), e => e.Contains("MaxStreamSessions", StringComparison.Ordinal));
        Assert.Contains(new OnnxGuardEngineOptions { ModelDirectory = "m", StreamSessionIdleTimeout = TimeSpan.Zero }.Validate(), e => e.Contains("StreamSessionIdleTimeout", StringComparison.Ordinal));
        Assert.Empty(new OnnxGuardEngineOptions { ModelDirectory = "m", MaxStreamSessions = 0 }.Validate());
    }
}
