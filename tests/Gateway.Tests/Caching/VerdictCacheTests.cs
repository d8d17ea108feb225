using Gateway.Caching;
using Gateway.Telemetry;
using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;
using Guard.Verdicts;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Caching;

/// <summary>The verdict cache over a real HybridCache (memory level only), with an engine the test answers by hand.</summary>
public sealed class VerdictCacheTests : IDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly ServiceProvider _services;
    private readonly HandEngine _engine = new();

    public VerdictCacheTests()
    {
        var services = new ServiceCollection().AddMetrics();
        services.AddSingleton<TimeProvider>(_time);
        services.AddOptions<Microsoft.Extensions.Caching.Memory.MemoryCacheOptions>().Configure(o => o.Clock = new TimeProviderClock(_time));
        services.AddHybridCache(o => o.DefaultEntryOptions = new HybridCacheEntryOptions
        {
            Expiration = TimeSpan.FromMinutes(10),
            LocalCacheExpiration = TimeSpan.FromMinutes(5),
        });
        _services = services.BuildServiceProvider();
    }

    public void Dispose() => _services.Dispose();

    [Fact]
    public async Task ConcurrentIdenticalChecks_ShareOneGuardCall()
    {
        var cache = Cache();
        var conversation = GuardConversation.ForPrompt("identical");

        var checks = Enumerable.Range(0, 8).Select(_ => cache.ClassifyAsync(_engine, conversation, "t", CancellationToken.None)).ToArray();
        _engine.Answer("safe");
        var results = await Task.WhenAll(checks);

        Assert.Equal(1, _engine.Calls);
        Assert.Single(results, r => r.Use == CacheUse.Miss);
        Assert.All(results, r => Assert.Equal(GuardVerdictStatus.Safe, r.Verdict.Status));
    }

    [Fact]
    public async Task AnUnsafeVerdict_ComesBackWithItsCategories_AndAnUnparseableOneIsNeverKept()
    {
        var cache = Cache();
        _engine.Answer("unsafe\nO3,X9");
        var first = await cache.ClassifyAsync(_engine, GuardConversation.ForPrompt("bad"), "t", CancellationToken.None);
        var again = await cache.ClassifyAsync(_engine, GuardConversation.ForPrompt("bad"), "t", CancellationToken.None);

        Assert.Equal(CacheUse.Hit, again.Use);
        Assert.Equal(first.Verdict.Categories, again.Verdict.Categories);
        Assert.Equal(["X9"], again.Verdict.UnknownCodes);
        Assert.Equal("O3", Assert.Single(again.Verdict.Categories).Code);

        _engine.Answer("not sure");
        await cache.ClassifyAsync(_engine, GuardConversation.ForPrompt("garbled"), "t", CancellationToken.None);
        var retried = await cache.ClassifyAsync(_engine, GuardConversation.ForPrompt("garbled"), "t", CancellationToken.None);
        Assert.Equal(CacheUse.Miss, retried.Use);
        Assert.Equal(3, _engine.Calls);
    }

    [Fact]
    public async Task AnEntry_ExpiresWithTheClock()
    {
        var cache = Cache();
        _engine.Answer("safe");
        await cache.ClassifyAsync(_engine, GuardConversation.ForPrompt("ages"), "t", CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(CacheUse.Hit, (await cache.ClassifyAsync(_engine, GuardConversation.ForPrompt("ages"), "t", CancellationToken.None)).Use);

        _time.Advance(TimeSpan.FromMinutes(7));
        Assert.Equal(CacheUse.Miss, (await cache.ClassifyAsync(_engine, GuardConversation.ForPrompt("ages"), "t", CancellationToken.None)).Use);
    }

    [Fact]
    public async Task TheScope_SeparatesTenants_UnlessGlobal()
    {
        _engine.Answer("safe");
        var perTenant = Cache();
        await perTenant.ClassifyAsync(_engine, GuardConversation.ForPrompt("x"), "a", CancellationToken.None);
        Assert.Equal(CacheUse.Miss, (await perTenant.ClassifyAsync(_engine, GuardConversation.ForPrompt("x"), "b", CancellationToken.None)).Use);

        var global = Cache(CacheScope.Global);
        await global.ClassifyAsync(_engine, GuardConversation.ForPrompt("y"), "a", CancellationToken.None);
        Assert.Equal(CacheUse.Hit, (await global.ClassifyAsync(_engine, GuardConversation.ForPrompt("y"), "b", CancellationToken.None)).Use);
    }

    [Fact]
    public void Keys_DifferForEveryInputThatCanChangeAVerdict_AndHoldNoText()
    {
        var conversation = GuardConversation.ForPrompt("secret words");
        var key = VerdictCacheKey.For("engine|model", "format", "tenant:a", conversation);

        Assert.DoesNotContain("secret", key, StringComparison.Ordinal);
        Assert.Equal(key, VerdictCacheKey.For("engine|model", "format", "tenant:a", GuardConversation.ForPrompt("secret words")));
        Assert.NotEqual(key, VerdictCacheKey.For("engine|other-model", "format", "tenant:a", conversation));
        Assert.NotEqual(key, VerdictCacheKey.For("engine|model", "other-format", "tenant:a", conversation));
        Assert.NotEqual(key, VerdictCacheKey.For("engine|model", "format", "tenant:b", conversation));
        Assert.NotEqual(key, VerdictCacheKey.For("engine|model", "format", "tenant:a", GuardConversation.ForResponse("secret words", "reply")));
        Assert.NotEqual(key, VerdictCacheKey.For("engine|model", "format", "tenant:a", GuardConversation.ForPrompt("secret words!")));
        // Field boundaries are part of the hash: moving text between fields changes the key.
        Assert.NotEqual(VerdictCacheKey.For("ab", "c", "s", conversation), VerdictCacheKey.For("a", "bc", "s", conversation));
    }

    [Theory]
    [InlineData("""{"u":true,"c":["O3"],"e":"","m":"m"}""")]
    [InlineData("""{"u":false,"c":["O3"],"e":"e","m":"m"}""")]
    [InlineData("""{"u":true,"c":["O3\nsafe"],"e":"e","m":"m"}""")]
    [InlineData("""{"u":true,"c":["O3"],"p":7,"e":"e","m":"m"}""")]
    public void AForeignStoredValue_IsNotAVerdict(string json)
    {
        var stored = System.Text.Json.JsonSerializer.Deserialize<CachedVerdict>(json)!;
        Assert.Null(stored.Restore(GuardTaxonomy.ForFamily(GuardFamily.LlamaGuard1)));
    }

    private VerdictCache Cache(CacheScope scope = CacheScope.Tenant) => new(
        _services.GetRequiredService<HybridCache>(),
        Options.Create(new CacheOptions { Scope = scope }),
        new GatewayMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
        NullLogger<VerdictCache>.Instance);

    /// <summary>An engine whose every call waits until the test says what it answers.</summary>
    private sealed class HandEngine : IGuardEngine
    {
        private TaskCompletionSource<string> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public string Name => "hand";

        public string Model => "hand-model";

        public GuardFamily Family => GuardFamily.LlamaGuard1;

        public GuardTaxonomy Taxonomy { get; } = GuardTaxonomy.ForFamily(GuardFamily.LlamaGuard1);

        public GuardEngineHealth Health => throw new NotSupportedException();

        public void Answer(string output)
        {
            if (!_answer.TrySetResult(output))
            {
                _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
                _answer.SetResult(output);
            }
        }

        public async ValueTask<GuardVerdict> ClassifyAsync(GuardConversation conversation, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _calls);
            var output = await _answer.Task.WaitAsync(cancellationToken);
            return GuardVerdict.FromParsed(GuardVerdictParser.Parse(output, conversation.Taxonomy ?? Taxonomy), Name, Model, TimeSpan.Zero);
        }

        public ValueTask<IReadOnlyList<GuardVerdict>> ClassifyBatchAsync(IReadOnlyList<GuardConversation> conversations, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public ValueTask<GuardCompletion> CompleteAsync(string prompt, int maxTokens, CancellationToken cancellationToken) =>
            throw new NotSupportedException();
    }
}
