using Gateway.Guarding;
using Guard.Engines;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Guarding;

/// <summary>The guard options: the single-engine keys, named engines under <c>Guard:Engines</c>, the default, and
/// start-up validation that lists every problem.</summary>
public sealed class GuardOptionsTests
{
    [Fact]
    public void NoEngine_IsValid_AndDefinesNone()
    {
        var plan = new GuardOptions().Plan();

        Assert.Empty(plan.Errors);
        Assert.Empty(plan.Engines);
        Assert.Null(plan.DefaultEngine);
    }

    [Theory]
    [InlineData(GuardEngineKind.OpenAi, "remote-openai")]
    [InlineData(GuardEngineKind.WorkersAi, "remote-workers-ai")]
    public void SingleEngineKeys_DefineOneEngineUnderItsKindsName_TheDefault(GuardEngineKind kind, string name)
    {
        var plan = new GuardOptions { Engine = kind, Remote = Remote(accountId: "acct") }.Plan();

        Assert.Empty(plan.Errors);
        var spec = Assert.Single(plan.Engines);
        Assert.Equal(name, spec.Name);
        Assert.Equal(kind, spec.Kind);
        Assert.Equal(name, plan.DefaultEngine);
        Assert.Equal(name, GuardOptions.SingleEngineName(kind));
    }

    [Fact]
    public void SingleEngineKeys_KeepTheirValidationMessages()
    {
        var errors = new GuardOptions { Engine = GuardEngineKind.WorkersAi }.Validate();

        Assert.Contains("Guard:Remote:BaseAddress must be an absolute URL.", errors);
        Assert.Contains("Guard:Remote:AccountId is required for a Workers AI guard.", errors);
    }

    [Fact]
    public void ConfigurationShape_BindsNamedEnginesWithTheirKindsSettings()
    {
        var options = Bind(new Dictionary<string, string?>
        {
            ["Guard:DefaultEngine"] = "local",
            ["Guard:Engines:local:Engine"] = "Onnx",
            ["Guard:Engines:local:Onnx:ModelDirectory"] = "models/llamaguard-7b",
            ["Guard:Engines:local:Onnx:MaxConcurrency"] = "2",
            ["Guard:Engines:vllm:Engine"] = "OpenAi",
            ["Guard:Engines:vllm:Remote:BaseAddress"] = "http://vllm-guard:8000/",
            ["Guard:Engines:vllm:Remote:Model"] = "meta-llama/Llama-Guard-3-8B",
            ["Guard:Engines:vllm:Remote:Family"] = "LlamaGuard3",
            ["Guard:Engines:vllm:Remote:Logprobs"] = "false",
            ["Guard:Engines:vllm:TokenizerPath"] = "tokenizers/llama3",
        });

        var plan = options.Plan();

        Assert.Empty(plan.Errors);
        Assert.Equal("local", plan.DefaultEngine);
        Assert.Equal(["local", "vllm"], plan.Engines.Select(e => e.Name));
        var local = plan.Engines[0];
        Assert.Equal(GuardEngineKind.Onnx, local.Kind);
        Assert.Equal("models/llamaguard-7b", local.Onnx.ModelDirectory);
        Assert.Equal(2, local.Onnx.MaxConcurrency);
        var vllm = plan.Engines[1];
        Assert.Equal(GuardEngineKind.OpenAi, vllm.Kind);
        Assert.Equal(new Uri("http://vllm-guard:8000/"), vllm.Remote.BaseAddress);
        Assert.Equal(Guard.Prompts.GuardFamily.LlamaGuard3, vllm.Remote.Family);
        Assert.False(vllm.Remote.Logprobs);
        Assert.Equal("tokenizers/llama3", vllm.TokenizerPath);
    }

    [Fact]
    public void KindNames_IgnoreCase()
    {
        var options = new GuardOptions();
        options.Engines["a"] = new GuardEngineOptions { Engine = "openai", Remote = Remote() };

        Assert.Empty(options.Validate());
    }

    [Fact]
    public void OneNamedEngine_IsTheDefault()
    {
        var options = new GuardOptions();
        options.Engines["vllm"] = new GuardEngineOptions { Engine = "OpenAi", Remote = Remote() };

        var plan = options.Plan();

        Assert.Empty(plan.Errors);
        Assert.Equal("vllm", plan.DefaultEngine);
    }

    [Fact]
    public void SingleEngineAndNamedOnes_TheSingleIsTheDefault_UnlessDefaultEngineNamesAnother()
    {
        var options = new GuardOptions { Engine = GuardEngineKind.OpenAi, Remote = Remote() };
        options.Engines["cloudflare"] = new GuardEngineOptions { Engine = "WorkersAi", Remote = Remote(accountId: "acct") };

        var plan = options.Plan();
        Assert.Empty(plan.Errors);
        Assert.Equal(["remote-openai", "cloudflare"], plan.Engines.Select(e => e.Name));
        Assert.Equal("remote-openai", plan.DefaultEngine);

        options.DefaultEngine = "CloudFlare";
        plan = options.Plan();
        Assert.Empty(plan.Errors);
        Assert.Equal("cloudflare", plan.DefaultEngine);
    }

    [Fact]
    public void SeveralNamedEngines_WithoutADefault_AreRefused()
    {
        var options = new GuardOptions();
        options.Engines["a"] = new GuardEngineOptions { Engine = "OpenAi", Remote = Remote() };
        options.Engines["b"] = new GuardEngineOptions { Engine = "OpenAi", Remote = Remote() };

        var error = Assert.Single(options.Validate());

        Assert.StartsWith("Guard:DefaultEngine must name one of the guard engines (a, b)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryProblem_IsListed_NamingItsSection()
    {
        var options = new GuardOptions { Engine = GuardEngineKind.OpenAi, Remote = Remote(), DefaultEngine = "nowhere" };
        options.Engines["Remote-OpenAI"] = new GuardEngineOptions { Engine = "OpenAi", Remote = Remote() };
        options.Engines["mystery"] = new GuardEngineOptions { Engine = "Triton" };
        options.Engines["unkinded"] = new GuardEngineOptions();
        options.Engines["none"] = new GuardEngineOptions { Engine = "None" };
        options.Engines["vllm"] = new GuardEngineOptions { Engine = "OpenAi", Remote = new RemoteGuardOptions { MaxAttempts = 0 } };
        options.Engines["VLLM"] = new GuardEngineOptions { Engine = "OpenAi", Remote = Remote() };
        options.Engines["cloudflare"] = new GuardEngineOptions { Engine = "WorkersAi", Remote = Remote() };
        options.Engines["local"] = new GuardEngineOptions { Engine = "Onnx" };
        options.Engines[" "] = new GuardEngineOptions { Engine = "OpenAi", Remote = Remote() };

        var errors = options.Validate();

        Assert.Contains(errors, e => e.StartsWith("Guard:Engines:Remote-OpenAI: Guard:Engine (OpenAi) already defines the engine 'remote-openai'", StringComparison.Ordinal));
        Assert.Contains("Guard:Engines:mystery:Engine must be Onnx, WorkersAi or OpenAi, got 'Triton'.", errors);
        Assert.Contains("Guard:Engines:unkinded:Engine is required: Onnx, WorkersAi or OpenAi.", errors);
        Assert.Contains("Guard:Engines:none:Engine must be Onnx, WorkersAi or OpenAi, got 'None'.", errors);
        Assert.Contains("Guard:Engines:vllm:Remote:BaseAddress must be an absolute URL.", errors);
        Assert.Contains("Guard:Engines:vllm:Remote:MaxAttempts must be at least 1, got 0.", errors);
        Assert.Contains(errors, e => e.StartsWith("Guard:Engines:vllm: the name differs from 'VLLM' only in case", StringComparison.Ordinal));
        Assert.Contains("Guard:Engines:cloudflare:Remote:AccountId is required for a Workers AI guard.", errors);
        Assert.Contains(errors, e => e.StartsWith("Guard:Engines:local:Onnx:ModelDirectory must name the model directory", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Guard:Engines has an engine named ' '", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Guard:DefaultEngine 'nowhere' is not one of the guard engines (", StringComparison.Ordinal));
        Assert.Equal(11, errors.Count);
    }

    [Fact]
    public void DefaultEngine_WithoutAnyEngine_IsRefused()
    {
        var error = Assert.Single(new GuardOptions { DefaultEngine = "vllm" }.Validate());

        Assert.Equal("Guard:DefaultEngine 'vllm' is not one of the guard engines (none configured).", error);
    }

    [Fact]
    public void NamedEngineTaxonomyProblems_NameTheEngine()
    {
        var options = new GuardOptions();
        options.Engines["vllm"] = new GuardEngineOptions
        {
            Engine = "OpenAi",
            Remote = Remote(taxonomy: new Guard.Prompts.GuardTaxonomyConfig { Remove = ["Z9"] }),
        };

        var error = Assert.Single(options.Validate());

        Assert.StartsWith("Guard:Engines:vllm: Remove[0] 'Z9' is not a default category", error, StringComparison.Ordinal);
    }

    internal static RemoteGuardOptions Remote(string? accountId = null, bool logprobs = true, Guard.Prompts.GuardTaxonomyConfig? taxonomy = null) => new()
    {
        BaseAddress = new Uri("http://127.0.0.1:9/"),
        AccountId = accountId,
        Logprobs = logprobs,
        Taxonomy = taxonomy,
    };

    internal static GuardOptions Bind(Dictionary<string, string?> values)
    {
        var options = new GuardOptions();
        new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection(GuardOptions.SectionName).Bind(options);
        return options;
    }
}
