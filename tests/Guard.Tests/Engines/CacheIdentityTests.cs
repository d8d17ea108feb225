using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;
using Guard.Verdicts;

namespace Guard.Tests.Engines;

/// <summary>The remote engines' cache identities and prompt format digests; no server is called.</summary>
public sealed class CacheIdentityTests
{
    private const string Token = "sk-secret-token-1234";

    private static readonly HttpClient Http = new();

    private static RemoteGuardOptions Options(string address = "https://guard.example:8443/vllm/", string model = "meta-llama/Llama-Guard-3-8B", GuardFamily family = GuardFamily.LlamaGuard3) => new()
    {
        BaseAddress = new Uri(address),
        ApiToken = Token,
        AccountId = "account-7",
        Model = model,
        Family = family,
    };

    private static OpenAiGuardEngine OpenAi(RemoteGuardOptions options, Func<string, int>? countTokens = null) => new(options, Http, TimeProvider.System, countTokens);

    [Fact]
    public void OpenAi_Identity_NamesKindAddressModelFamilyAndAnswerSettings()
    {
        var engine = OpenAi(Options());

        Assert.Equal(
            "remote-openai|base=https://guard.example:8443/vllm/|model=meta-llama/Llama-Guard-3-8B|family=LlamaGuard3|context=4096|max_tokens=24|tokens=estimate|logprobs=top5",
            engine.CacheIdentity);
        Assert.Equal(engine.CacheIdentity, ((IGuardEngine)engine).CacheIdentity);
    }

    [Fact]
    public void WorkersAi_Identity_HasNoAccountAndNoLogprobs()
    {
        var engine = new WorkersAiGuardEngine(Options("https://api.cloudflare.com/", "@hf/thebloke/llamaguard-7b-awq", GuardFamily.LlamaGuard1), Http, TimeProvider.System);

        Assert.Equal(
            "remote-workers-ai|base=https://api.cloudflare.com/|model=@hf/thebloke/llamaguard-7b-awq|family=LlamaGuard1|context=4096|max_tokens=24|tokens=estimate",
            engine.CacheIdentity);
    }

    [Fact]
    public void Identities_DifferByAddressModelFamilyKindAndAnswerSettings()
    {
        var workers = Options();
        string[] identities =
        [
            OpenAi(Options()).CacheIdentity,
            OpenAi(Options("https://other.example:8443/vllm/")).CacheIdentity,
            OpenAi(Options("https://guard.example:8444/vllm/")).CacheIdentity,
            OpenAi(Options("https://guard.example:8443/other/")).CacheIdentity,
            OpenAi(Options(model: "meta-llama/Llama-Guard-3-1B")).CacheIdentity,
            OpenAi(Options(family: GuardFamily.LlamaGuard2)).CacheIdentity,
            new WorkersAiGuardEngine(workers, Http, TimeProvider.System).CacheIdentity,
            OpenAi(WithContext(Options(), 8192)).CacheIdentity,
            OpenAi(WithMaxTokens(Options(), 4)).CacheIdentity,
            OpenAi(WithLogprobs(Options(), false)).CacheIdentity,
            OpenAi(Options(), text => text.Length).CacheIdentity,
        ];

        Assert.Equal(identities.Length, identities.Distinct().Count());
    }

    [Fact]
    public void Identity_IsStable_AndIgnoresTokenAccountNameTimeoutsAndRetries()
    {
        var a = Options();
        var b = Options();
        b.ApiToken = "another-token";
        b.AccountId = "another-account";
        b.Timeout = TimeSpan.FromSeconds(99);
        b.MaxAttempts = 1;

        Assert.Equal(OpenAi(a).CacheIdentity, new OpenAiGuardEngine(b, Http, TimeProvider.System, name: "guard-b").CacheIdentity);
    }

    [Fact]
    public void Identity_NeverHoldsCredentials()
    {
        var options = Options("https://user:" + Token + "@guard.example/v1base/?key=" + Token + "#frag");
        var openAi = OpenAi(options);
        var workers = new WorkersAiGuardEngine(options, Http, TimeProvider.System);

        foreach (var identity in new[] { openAi.CacheIdentity, workers.CacheIdentity })
        {
            Assert.DoesNotContain(Token, identity, StringComparison.Ordinal);
            Assert.DoesNotContain("user", identity, StringComparison.Ordinal);
            Assert.DoesNotContain("account-7", identity, StringComparison.Ordinal);
            Assert.Contains("|base=https://guard.example/v1base/|", identity, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Identity_EscapesSeparatorsInValues()
    {
        var engine = OpenAi(Options(model: "odd|model%name"));
        Assert.Contains("|model=odd%7Cmodel%25name|", engine.CacheIdentity, StringComparison.Ordinal);
    }

    [Fact]
    public void FormatDigest_IsTheRenderersForTheEnginesOrTheConversationsTaxonomy()
    {
        var custom = new GuardTaxonomyConfig { Categories = [new() { Code = "S15", Name = "Financial Advice" }] };
        var options = Options();
        options.Taxonomy = custom;
        var engine = OpenAi(options);
        var plain = OpenAi(Options());
        var own = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard3, custom);

        Assert.Equal(LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard3, own, GuardRole.User), engine.GetPromptFormatDigest(null, GuardRole.User));
        Assert.Equal(engine.GetPromptFormatDigest(null, GuardRole.Agent), engine.GetPromptFormatDigest(own, GuardRole.Agent));
        Assert.Equal(engine.GetPromptFormatDigest(null, GuardRole.User), plain.GetPromptFormatDigest(own, GuardRole.User));
        Assert.NotEqual(engine.GetPromptFormatDigest(null, GuardRole.User), plain.GetPromptFormatDigest(null, GuardRole.User));
        Assert.NotEqual(engine.GetPromptFormatDigest(null, GuardRole.User), engine.GetPromptFormatDigest(null, GuardRole.Agent));
        Assert.Throws<ArgumentException>(() => engine.GetPromptFormatDigest(GuardTaxonomy.LlamaGuard1, GuardRole.User));

        // Another engine instance, and another engine kind, give the same digests.
        var workers = new WorkersAiGuardEngine(options, Http, TimeProvider.System);
        Assert.Equal(engine.GetPromptFormatDigest(null, GuardRole.Agent), workers.GetPromptFormatDigest(null, GuardRole.Agent));
        Assert.Equal(engine.GetPromptFormatDigest(null, GuardRole.Agent), OpenAi(options).GetPromptFormatDigest(null, GuardRole.Agent));
    }

    [Fact]
    public void DefaultInterfaceMembers_GiveNameModelFamily_AndTheStaticFormatDigest()
    {
        IGuardEngine engine = new MinimalEngine();

        Assert.Equal("minimal|test/model|LlamaGuard2", engine.CacheIdentity);
        Assert.Equal(LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard2, null, GuardRole.Agent), engine.GetPromptFormatDigest(null, GuardRole.Agent));
        Assert.Equal(OpenAi(Options(family: GuardFamily.LlamaGuard2)).GetPromptFormatDigest(null, GuardRole.User), engine.GetPromptFormatDigest(null, GuardRole.User));
    }

    private static RemoteGuardOptions WithContext(RemoteGuardOptions options, int context)
    {
        options.ContextTokens = context;
        return options;
    }

    private static RemoteGuardOptions WithMaxTokens(RemoteGuardOptions options, int maxTokens)
    {
        options.MaxTokens = maxTokens;
        return options;
    }

    private static RemoteGuardOptions WithLogprobs(RemoteGuardOptions options, bool logprobs)
    {
        options.Logprobs = logprobs;
        return options;
    }

    /// <summary>An engine that implements only what it must, as test doubles do.</summary>
    private sealed class MinimalEngine : IGuardEngine
    {
        public string Name => "minimal";

        public string Model => "test/model";

        public GuardFamily Family => GuardFamily.LlamaGuard2;

        public GuardTaxonomy Taxonomy => GuardTaxonomy.LlamaGuard2;

        public GuardEngineHealth Health => throw new NotSupportedException();

        public ValueTask<GuardVerdict> ClassifyAsync(GuardConversation conversation, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<IReadOnlyList<GuardVerdict>> ClassifyBatchAsync(IReadOnlyList<GuardConversation> conversations, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<GuardCompletion> CompleteAsync(string prompt, int maxTokens, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
