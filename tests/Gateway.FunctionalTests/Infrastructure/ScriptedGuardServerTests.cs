using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;
using Guard.Verdicts;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>The scripted guard server against the gateway's real <see cref="OpenAiGuardEngine"/> (no gateway): the
/// engine reads back the scripted verdicts, probabilities and usage, and the server's latency, stalls and counters
/// behave as tests rely on.</summary>
public sealed class ScriptedGuardServerTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    public static TheoryData<GuardFamily, double, int> Probabilities
    {
        get
        {
            var data = new TheoryData<GuardFamily, double, int>();
            foreach (var family in new[] { GuardFamily.LlamaGuard1, GuardFamily.LlamaGuard3 })
            {
                foreach (var p in new[] { 0, 0.03, 0.3, 0.5, 0.97, 1 })
                {
                    data.Add(family, p, 5);
                    data.Add(family, p, 1);
                }
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Probabilities))]
    public async Task TheEngine_ReadsTheScriptedUnsafeProbability(GuardFamily family, double probability, int topLogprobs)
    {
        await using var server = await ScriptedGuardServer.StartAsync();
        var code = family == GuardFamily.LlamaGuard1 ? "O3" : "S1";
        // Greedy decoding says unsafe from one half up.
        server.Answer("marker", probability >= 0.5 ? $"unsafe\n{code}" : "safe", probability);
        using var http = new HttpClient();
        var engine = Engine(server, http, family, topLogprobs: topLogprobs);

        var verdict = await engine.ClassifyAsync(GuardConversation.ForPrompt("a marker here"), CancellationToken.None);

        Assert.Equal(probability >= 0.5 ? GuardVerdictStatus.Unsafe : GuardVerdictStatus.Safe, verdict.Status);
        Assert.NotNull(verdict.UnsafeProbability);
        Assert.Equal(probability, verdict.UnsafeProbability.Value, 9);
        Assert.Equal(topLogprobs, Assert.Single(server.Requests).Logprobs);
    }

    [Theory]
    [InlineData("unsafe\nS1", 1.0)]
    [InlineData("safe", 0.0)]
    public async Task WithoutAScriptedProbability_TheOutputIsCertain(string output, double expected)
    {
        await using var server = await ScriptedGuardServer.StartAsync();
        server.DefaultOutput = output;
        using var http = new HttpClient();

        var verdict = await Engine(server, http).ClassifyAsync(GuardConversation.ForPrompt("hello"), CancellationToken.None);

        Assert.Equal(expected, verdict.UnsafeProbability);
    }

    [Theory]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task WithoutLogprobs_NoProbabilityIsReported(bool engineAsks, bool serverSends)
    {
        await using var server = await ScriptedGuardServer.StartAsync();
        server.Answer("hello", "unsafe\nS1", 0.9);
        server.SendLogprobs = serverSends;
        using var http = new HttpClient();

        var verdict = await Engine(server, http, logprobs: engineAsks).ClassifyAsync(GuardConversation.ForPrompt("hello"), CancellationToken.None);

        Assert.Equal(GuardVerdictStatus.Unsafe, verdict.Status);
        Assert.Null(verdict.UnsafeProbability);
        Assert.Equal(engineAsks ? 5 : (int?)null, Assert.Single(server.Requests).Logprobs);
    }

    [Fact]
    public async Task Completion_CarriesUsage_AndTheLlamaGuard3BlankLine()
    {
        await using var server = await ScriptedGuardServer.StartAsync();
        server.DefaultOutput = "unsafe\nS1,S9";
        using var http = new HttpClient();
        var engine = Engine(server, http);
        var prompt = new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard3).Render(GuardConversation.ForPrompt("hello")).Full;

        var completion = await engine.CompleteAsync(prompt, 24, CancellationToken.None);

        Assert.Equal("\n\nunsafe\nS1,S9", completion.Text);
        Assert.Equal(RemoteGuardEngine.EstimateTokens(prompt), completion.PromptTokens);
        Assert.Equal(ScriptedGuardServer.Tokens(completion.Text).Count, completion.CompletionTokens);
        Assert.Equal(new[] { "\n\n", "unsafe", "\n", "S", "1", ",", "S", "9" }, ScriptedGuardServer.Tokens(completion.Text));
    }

    [Fact]
    public async Task Rules_FirstMatchWins_PerJudgedRole()
    {
        await using var server = await ScriptedGuardServer.StartAsync();
        server.Answer("word", "unsafe\nS2", role: "Agent").Answer("word", "unsafe\nS1").Answer("word", "unsafe\nS3");
        using var http = new HttpClient();
        var engine = Engine(server, http);

        var user = await engine.ClassifyAsync(GuardConversation.ForPrompt("a word"), CancellationToken.None);
        var agent = await engine.ClassifyAsync(GuardConversation.ForResponse("hi", "a word"), CancellationToken.None);

        Assert.Equal("S1", Assert.Single(user.Categories).Code);
        Assert.Equal("S2", Assert.Single(agent.Categories).Code);
        Assert.Equal(new[] { "User", "Agent" }, server.Requests.Select(r => r.Role));
        Assert.Equal("User: hi\n\nAgent: a word\n\n", server.Requests[1].Conversation);
    }

    [Fact]
    public async Task Fail_AnswersTheStatus_AndTheEngineRetriesTransientOnes()
    {
        await using var server = await ScriptedGuardServer.StartAsync();
        server.Fail("busy", 503).Fail("bad", 400);
        using var http = new HttpClient();
        var engine = Engine(server, http, maxAttempts: 3);

        var busy = await Assert.ThrowsAsync<GuardEngineException>(() => engine.ClassifyAsync(GuardConversation.ForPrompt("busy"), CancellationToken.None).AsTask());
        Assert.Equal(3, server.Calls);
        var bad = await Assert.ThrowsAsync<GuardEngineException>(() => engine.ClassifyAsync(GuardConversation.ForPrompt("bad"), CancellationToken.None).AsTask());

        Assert.Contains("HTTP 503", busy.Message, StringComparison.Ordinal);
        Assert.Contains("HTTP 400", bad.Message, StringComparison.Ordinal);
        Assert.Equal(4, server.Calls);
    }

    [Fact]
    public async Task Latency_WaitsOnTheInjectedClock_AndConcurrencyIsCounted()
    {
        var clock = new GatedTimeProvider();
        await using var server = await ScriptedGuardServer.StartAsync(clock);
        server.Latency = TimeSpan.FromMinutes(5);
        using var http = new HttpClient();
        var engine = Engine(server, http, timeout: TimeSpan.FromMinutes(10));

        var calls = Enumerable.Range(0, 3)
            .Select(i => engine.ClassifyAsync(GuardConversation.ForPrompt($"call {i}"), CancellationToken.None).AsTask()).ToArray();
        await Until(() => clock.Pending == 3);

        Assert.Equal(3, server.InFlight);
        Assert.Equal(3, server.MaxConcurrency);
        Assert.All(clock.DueTimes, due => Assert.Equal(TimeSpan.FromMinutes(5), due));
        Assert.All(calls, call => Assert.False(call.IsCompleted));

        clock.Release();
        var verdicts = await Task.WhenAll(calls).WaitAsync(Patience);

        Assert.All(verdicts, v => Assert.Equal(GuardVerdictStatus.Safe, v.Status));
        Assert.Equal(0, server.InFlight);
        Assert.Equal(3, server.Calls);
        Assert.Equal(3, server.MaxConcurrency);
    }

    [Fact]
    public async Task Stall_AnswersNothing_UntilTheCallerAborts()
    {
        await using var server = await ScriptedGuardServer.StartAsync();
        server.Stall("hang");
        using var http = new HttpClient();
        var engine = Engine(server, http, timeout: TimeSpan.FromMinutes(10));
        using var cancel = new CancellationTokenSource();

        var call = engine.ClassifyAsync(GuardConversation.ForPrompt("hang on"), cancel.Token).AsTask();
        await Until(() => server.InFlight == 1);
        Assert.False(call.IsCompleted);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await Until(() => server.Aborted == 1 && server.InFlight == 0);
        Assert.Equal(1, server.Calls);
    }

    private static OpenAiGuardEngine Engine(
        ScriptedGuardServer server, HttpClient http, GuardFamily family = GuardFamily.LlamaGuard3, bool logprobs = true,
        int topLogprobs = 5, int maxAttempts = 1, TimeSpan? timeout = null) => new(
        new RemoteGuardOptions
        {
            BaseAddress = server.BaseAddress,
            Model = ScriptedGuardServer.ModelFor(family),
            Family = family,
            Logprobs = logprobs,
            TopLogprobs = topLogprobs,
            MaxAttempts = maxAttempts,
            RetryDelay = TimeSpan.FromMilliseconds(1),
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        },
        http,
        TimeProvider.System);

    /// <summary>Waits until <paramref name="condition"/> holds; fails the test after <see cref="Patience"/>.</summary>
    private static async Task Until(Func<bool> condition)
    {
        using var patience = new CancellationTokenSource(Patience);
        while (!condition())
        {
            await Task.Delay(10, patience.Token);
        }
    }

    /// <summary>A clock whose finite timers fire only when <see cref="Release"/> is called.</summary>
    private sealed class GatedTimeProvider : TimeProvider
    {
        private readonly Lock _lock = new();
        private readonly List<GatedTimer> _timers = [];

        public int Pending
        {
            get
            {
                lock (_lock)
                {
                    return _timers.Count(t => !t.Fired && !t.Disposed);
                }
            }
        }

        public IReadOnlyList<TimeSpan> DueTimes
        {
            get
            {
                lock (_lock)
                {
                    return [.. _timers.Select(t => t.DueTime)];
                }
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = new GatedTimer(callback, state, dueTime);
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                lock (_lock)
                {
                    _timers.Add(timer);
                }
            }
            return timer;
        }

        public void Release()
        {
            GatedTimer[] due;
            lock (_lock)
            {
                due = [.. _timers.Where(t => !t.Fired && !t.Disposed)];
            }
            foreach (var timer in due)
            {
                timer.Fire();
            }
        }

        private sealed class GatedTimer(TimerCallback callback, object? state, TimeSpan dueTime) : ITimer
        {
            public TimeSpan DueTime { get; } = dueTime;

            public bool Fired { get; private set; }

            public bool Disposed { get; private set; }

            public void Fire()
            {
                Fired = true;
                callback(state);
            }

            public bool Change(TimeSpan dueTime, TimeSpan period) => false;

            public void Dispose() => Disposed = true;

            public ValueTask DisposeAsync()
            {
                Dispose();
                return ValueTask.CompletedTask;
            }
        }
    }
}
