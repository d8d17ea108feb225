using Gateway.Guarding;
using Gateway.Moderation;
using Guard.Engines;
using Guard.Onnx.Engine;
using Guard.Prompts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Guarding;

/// <summary>The provider keeps every configured engine by name, the default among them, and tells policies what each
/// engine can do.</summary>
public sealed class GuardEngineProviderTests
{
    [Fact]
    public void NamedEngines_AreCreatedUnderTheirNames_AndFoundIgnoringCase()
    {
        var options = new GuardOptions { DefaultEngine = "B" };
        options.Engines["a"] = new GuardEngineOptions { Engine = "WorkersAi", Remote = GuardOptionsTests.Remote(accountId: "acct") };
        options.Engines["b"] = new GuardEngineOptions { Engine = "OpenAi", Remote = GuardOptionsTests.Remote() };

        using var provider = Create(options);

        Assert.Equal(["a", "b"], provider.Engines.Keys.Order(StringComparer.Ordinal));
        Assert.IsType<WorkersAiGuardEngine>(provider.Engines["a"]);
        Assert.IsType<OpenAiGuardEngine>(provider.Engines["b"]);
        Assert.Equal("a", provider.Engines["a"].Name);
        Assert.Equal("b", provider.Engines["b"].Name);
        Assert.Equal("b", provider.DefaultName);
        Assert.Same(provider.Engines["b"], provider.Engine);
        Assert.Same(provider.Engine, provider.Get(null));
        Assert.Same(provider.Engines["a"], provider.Get("A"));
        Assert.Null(provider.Get("c"));
    }

    [Fact]
    public void SingleEngineKeys_GiveTheEngineItsUsualName()
    {
        using var provider = Create(new GuardOptions { Engine = GuardEngineKind.OpenAi, Remote = GuardOptionsTests.Remote() });

        var engine = Assert.IsType<OpenAiGuardEngine>(provider.Engine);
        Assert.Equal("remote-openai", engine.Name);
        Assert.Equal("remote-openai", provider.DefaultName);
        Assert.Same(engine, Assert.Single(provider.Engines).Value);
        Assert.Same(engine, provider.Get("Remote-OpenAI"));
    }

    [Fact]
    public void SingleEngineKeysAndNamedEngines_Coexist()
    {
        var options = new GuardOptions { Engine = GuardEngineKind.WorkersAi, Remote = GuardOptionsTests.Remote(accountId: "acct") };
        options.Engines["vllm"] = new GuardEngineOptions { Engine = "OpenAi", Remote = GuardOptionsTests.Remote() };

        using var provider = Create(options);

        Assert.Equal(2, provider.Engines.Count);
        Assert.Equal("remote-workers-ai", provider.Engine!.Name);
        Assert.Equal("vllm", provider.Get("vllm")!.Name);
    }

    [Fact]
    public void NoEngine_LeavesEverythingEmpty()
    {
        using var provider = Create(new GuardOptions());

        Assert.Null(provider.Engine);
        Assert.Null(provider.DefaultName);
        Assert.Empty(provider.Engines);
        Assert.Null(provider.Get(null));
        Assert.Null(provider.Get("onnx"));
    }

    [Fact]
    public void InvalidOptions_StopStartUp_WithEveryProblem()
    {
        var options = new GuardOptions { DefaultEngine = "missing" };
        options.Engines["a"] = new GuardEngineOptions { Engine = "Triton" };
        options.Engines["b"] = new GuardEngineOptions { Engine = "OpenAi" };

        var ex = Assert.Throws<InvalidOperationException>(() => Create(options));

        Assert.StartsWith("Invalid guard configuration:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Guard:Engines:a:Engine must be Onnx, WorkersAi or OpenAi, got 'Triton'.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Guard:Engines:b:Remote:BaseAddress must be an absolute URL.", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Guard:DefaultEngine 'missing' is not one of the guard engines (b).", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NamedOnnxEngine_ThatCannotLoad_NamesItsSection()
    {
        var options = new GuardOptions { DefaultEngine = "vllm" };
        options.Engines["vllm"] = new GuardEngineOptions { Engine = "OpenAi", Remote = GuardOptionsTests.Remote() };
        options.Engines["local"] = new GuardEngineOptions
        {
            Engine = "Onnx",
            Onnx = new OnnxGuardEngineOptions { ModelDirectory = Path.Combine(Path.GetTempPath(), "no-such-guard-model-" + Guid.NewGuid().ToString("N")) },
        };

        var ex = Assert.Throws<OnnxModelLoadException>(() => Create(options));

        Assert.StartsWith("Guard:Engines:local: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GivenEngine_IsTheOnlyAndDefaultOne_UnderItsOwnName()
    {
        var engine = new StubGuardEngine("scripted");
        using var provider = new GuardEngineProvider(engine);

        Assert.Same(engine, provider.Engine);
        Assert.Equal("scripted", provider.DefaultName);
        Assert.Same(engine, provider.Get("SCRIPTED"));
        Assert.Single(provider.Engines);
    }

    [Fact]
    public void GivenEngines_KeepTheirNamesAndDefault_AndAreAllDisposed()
    {
        var a = new StubGuardEngine("one");
        var b = new StubGuardEngine("two");
        var provider = new GuardEngineProvider([new("a", a), new("b", b)], "B");

        Assert.Same(b, provider.Engine);
        Assert.Equal("b", provider.DefaultName);
        Assert.Same(a, provider.Get("a"));
        Assert.Same(b, provider.Get(null));

        provider.Dispose();
        Assert.Equal(1, a.Disposals);
        Assert.Equal(1, b.Disposals);
    }

    [Fact]
    public void GivenEngines_AreChecked()
    {
        var a = new StubGuardEngine("a");

        Assert.Throws<ArgumentException>(() => new GuardEngineProvider([], "a"));
        Assert.Throws<ArgumentException>(() => new GuardEngineProvider([new("a", a), new("A", a)], "a"));
        Assert.Throws<ArgumentException>(() => new GuardEngineProvider([new("a", a)], "b"));
        Assert.Throws<ArgumentException>(() => new GuardEngineProvider([new(" ", a)], " "));
    }

    [Fact]
    public void EnginesOf_ReportsEveryEngine_ItsProbabilityCapability_AndTheDefault()
    {
        var options = new GuardOptions { DefaultEngine = "cloudflare" };
        options.Engines["scored"] = new GuardEngineOptions { Engine = "OpenAi", Remote = GuardOptionsTests.Remote() };
        options.Engines["unscored"] = new GuardEngineOptions { Engine = "OpenAi", Remote = GuardOptionsTests.Remote(logprobs: false) };
        options.Engines["cloudflare"] = new GuardEngineOptions { Engine = "WorkersAi", Remote = GuardOptionsTests.Remote(accountId: "acct") };
        using var provider = Create(options);

        var engines = PolicyExtensions.EnginesOf(provider);

        Assert.Equal("cloudflare", engines.DefaultEngine);
        Assert.Equal(3, engines.ByName.Count);
        Assert.True(engines.ByName["SCORED"].ReportsUnsafeProbability);
        Assert.False(engines.ByName["unscored"].ReportsUnsafeProbability);
        Assert.False(engines.ByName["cloudflare"].ReportsUnsafeProbability);
        Assert.Equal(GuardFamily.LlamaGuard1, engines.ByName["cloudflare"].Family);
    }

    [Fact]
    public void EnginesOf_NoEngine_IsNone()
    {
        using var provider = Create(new GuardOptions());

        Assert.Same(Policies.PolicyEngines.None, PolicyExtensions.EnginesOf(provider));
    }

    private static GuardEngineProvider Create(GuardOptions options) =>
        new(Options.Create(options), TimeProvider.System, NullLogger<GuardEngineProvider>.Instance);
}
