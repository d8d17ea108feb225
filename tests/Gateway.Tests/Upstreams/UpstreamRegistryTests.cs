using Gateway.Catalog;
using Gateway.Upstreams;

namespace Gateway.Tests.Upstreams;

public sealed class UpstreamRegistryTests
{
    private static ModelCatalog Catalog(params string[] ids) =>
        ModelCatalog.Build(ids.Select(id => KeyValuePair.Create(id, new ModelOptions())));

    private static UpstreamRegistry Build(
        Dictionary<string, UpstreamOptions> upstreams, RouteRuleOptions[] routes, ModelCatalog catalog, Func<string, bool>? clusterExists = null) =>
        UpstreamRegistry.Build(upstreams, routes, catalog, clusterExists ?? (_ => true));

    private static RouteRuleOptions Rule(string models, string upstream) => new() { Models = models, Upstream = upstream };

    private static string BuildError(
        Dictionary<string, UpstreamOptions> upstreams, RouteRuleOptions[] routes, ModelCatalog catalog, Func<string, bool>? clusterExists = null) =>
        Assert.Throws<InvalidOperationException>(() => Build(upstreams, routes, catalog, clusterExists)).Message;

    private static readonly Dictionary<string, UpstreamOptions> TwoUpstreams = new()
    {
        ["workers"] = new UpstreamOptions { Kind = UpstreamKind.WorkersAi, AccountId = "acc" },
        ["vllm"] = new UpstreamOptions { Kind = UpstreamKind.OpenAi },
    };

    [Fact]
    public void FirstMatchingRule_Wins()
    {
        var catalog = Catalog("@cf/meta/llama-2-7b-chat-fp16", "@cf/meta/llama-3.1-8b-instruct-awq", "@cf/mistral/mistral-7b-instruct-v0.1");
        var registry = Build(TwoUpstreams, [Rule("@cf/meta/*", "vllm"), Rule("@cf/meta/llama-2-7b-chat-fp16", "workers"), Rule("*", "workers")], catalog);

        Assert.Equal("vllm", registry.Resolve(catalog.Models[0]).Name);
        Assert.Equal("vllm", registry.Resolve(catalog.Models[1]).Name);
        Assert.Equal("workers", registry.Resolve(catalog.Models[2]).Name);
    }

    [Theory]
    // pattern, model id, matches
    [InlineData("*", "@cf/meta/llama-2-7b-chat-fp16", true)]
    [InlineData("@cf/meta/*", "@cf/meta/llama-2-7b-chat-fp16", true)]
    [InlineData("@cf/meta/*", "@cf/meta-llama/llama-2-7b-chat-hf-lora", false)] // the slash is literal
    [InlineData("@cf/meta*", "@cf/meta-llama/llama-2-7b-chat-hf-lora", true)] // '*' crosses '/' and '-'
    [InlineData("*llama*", "@hf/thebloke/codellama-7b-instruct-awq", true)]
    [InlineData("llama", "@cf/meta/llama-2-7b-chat-fp16", false)] // anchored at both ends
    [InlineData("@cf/meta/llama-3.1-8b-instruct-awq", "@cf/meta/llama-3.1-8b-instruct-awq", true)]
    [InlineData("@cf/meta/llama-3.1-8b-instruct-awq", "@cf/meta/llama-3x1-8b-instruct-awq", false)] // '.' is not a wildcard
    [InlineData("@cf/meta/llama-?", "@cf/meta/llama-2", false)] // '?' is literal
    [InlineData("@cf/(meta)+/*", "@cf/meta/x", false)] // regex syntax is literal
    [InlineData("@cf/*/llama-*-awq", "@cf/meta/llama-3.1-8b-instruct-awq", true)]
    [InlineData("@CF/*", "@cf/meta/x", false)] // case-sensitive, like model ids
    public void Globs_MatchWholeIds_WithStarAsTheOnlyWildcard(string pattern, string id, bool matches)
    {
        var catalog = Catalog(id);
        var registry = Build(TwoUpstreams, [Rule(pattern, "vllm"), Rule("*", "workers")], catalog);

        Assert.Equal(matches ? "vllm" : "workers", registry.Resolve(catalog.Models[0]).Name);
    }

    [Fact]
    public void EachKind_GetsItsProtocol()
    {
        var registry = Build(new Dictionary<string, UpstreamOptions>
        {
            ["w"] = new() { Kind = UpstreamKind.WorkersAi, AccountId = "acc" },
            ["o"] = new() { Kind = UpstreamKind.OpenAi },
            ["d"] = new() { Kind = UpstreamKind.Demo },
        }, [Rule("*", "o")], Catalog("m"));

        var byName = registry.Upstreams.ToDictionary(u => u.Name);
        Assert.IsType<WorkersAiProtocol>(byName["w"].Protocol);
        Assert.Equal(UpstreamKind.WorkersAi, byName["w"].Protocol.Kind);
        Assert.IsType<OpenAiProtocol>(byName["o"].Protocol);
        Assert.Equal(UpstreamKind.OpenAi, byName["o"].Protocol.Kind);
        Assert.IsType<OpenAiProtocol>(byName["d"].Protocol);
        Assert.Equal(UpstreamKind.Demo, byName["d"].Protocol.Kind);
    }

    [Fact]
    public void EveryUpstream_IsListed_EvenWhenNoModelRoutesToIt()
    {
        var registry = Build(TwoUpstreams, [Rule("*", "vllm")], Catalog("m"));

        Assert.Equal(["vllm", "workers"], registry.Upstreams.Select(u => u.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void ClusterId_DefaultsToTheUpstreamName()
    {
        var seen = new List<string>();
        var registry = Build(new Dictionary<string, UpstreamOptions>
        {
            ["a"] = new() { Kind = UpstreamKind.OpenAi },
            ["b"] = new() { Kind = UpstreamKind.OpenAi, Cluster = "shared" },
        }, [Rule("*", "a")], Catalog("m"), id => { seen.Add(id); return true; });

        var byName = registry.Upstreams.ToDictionary(u => u.Name);
        Assert.Equal("a", byName["a"].ClusterId);
        Assert.Equal("shared", byName["b"].ClusterId);
        Assert.Equal(["a", "shared"], seen);
    }

    [Fact]
    public void DemoUpstream_NeedsNoCluster()
    {
        var registry = Build(new Dictionary<string, UpstreamOptions> { ["demo"] = new() { Kind = UpstreamKind.Demo } },
            [Rule("*", "demo")], Catalog("m"), _ => false);

        Assert.Equal("demo", registry.Resolve(Catalog("m").Models[0]).Name);
    }

    [Fact]
    public void WorkersAiUpstream_NeedsAnAccountId()
    {
        var message = BuildError(new Dictionary<string, UpstreamOptions> { ["cf"] = new() { Kind = UpstreamKind.WorkersAi, AccountId = " " } },
            [Rule("*", "cf")], Catalog("m"));

        Assert.Contains("Gateway:Upstreams:cf: a WorkersAi upstream needs 'AccountId'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingCluster_IsNamed()
    {
        var message = BuildError(new Dictionary<string, UpstreamOptions> { ["vllm"] = new() { Cluster = "gpu-pool" } },
            [Rule("*", "vllm")], Catalog("m"), _ => false);

        Assert.Contains("Gateway:Upstreams:vllm: YARP cluster 'gpu-pool' is not configured; add ReverseProxy:Clusters:gpu-pool", message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoraModelFormat_MustContainTheLoraPlaceholder()
    {
        var message = BuildError(new Dictionary<string, UpstreamOptions> { ["vllm"] = new() { LoraModelFormat = "{model}" } },
            [Rule("*", "vllm")], Catalog("m"));

        Assert.Contains("Gateway:Upstreams:vllm: 'LoraModelFormat' ('{model}') must contain '{lora}'.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void RuleNamingAnUnknownUpstream_IsNamed()
    {
        var message = BuildError(TwoUpstreams, [Rule("*", "vllm"), Rule("@cf/*", "nope")], Catalog("m"));

        Assert.Contains("Gateway:Routes:1: upstream 'nope' is not defined under Gateway:Upstreams.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void ModelMatchingNoRule_IsNamed()
    {
        var message = BuildError(TwoUpstreams, [Rule("@cf/*", "vllm")], Catalog("@cf/a", "@hf/b"));

        Assert.Contains("Model '@hf/b' matches no rule in Gateway:Routes", message, StringComparison.Ordinal);
        Assert.DoesNotContain("'@cf/a'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void NoRulesAtAll_LeavesEveryModelUnrouted()
    {
        var message = BuildError(TwoUpstreams, [], Catalog("a", "b"));

        Assert.Contains("Model 'a' matches no rule", message, StringComparison.Ordinal);
        Assert.Contains("Model 'b' matches no rule", message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryError_IsCollected_BeforeFailing()
    {
        var message = BuildError(new Dictionary<string, UpstreamOptions>
        {
            ["cf"] = new() { Kind = UpstreamKind.WorkersAi },
            ["vllm"] = new() { Kind = UpstreamKind.OpenAi, LoraModelFormat = "adapter" },
        }, [Rule("@cf/*", "missing"), Rule("@cf/meta/*", "vllm")], Catalog("@cf/meta/a", "@cf/other/b"), id => id == "vllm");
        var lines = message.Split(Environment.NewLine);

        Assert.Equal("Invalid upstream configuration:", lines[0]);
        Assert.Equal(5, lines.Length - 1);
        Assert.StartsWith("Gateway:Upstreams:cf: a WorkersAi upstream needs 'AccountId'", lines[1], StringComparison.Ordinal);
        Assert.StartsWith("Gateway:Upstreams:cf: YARP cluster 'cf' is not configured", lines[2], StringComparison.Ordinal);
        Assert.StartsWith("Gateway:Upstreams:vllm: 'LoraModelFormat' ('adapter')", lines[3], StringComparison.Ordinal);
        Assert.StartsWith("Gateway:Routes:0: upstream 'missing' is not defined", lines[4], StringComparison.Ordinal);
        Assert.StartsWith("Model '@cf/other/b' matches no rule", lines[5], StringComparison.Ordinal);
    }

    [Fact]
    public void NonPositiveTimeouts_AreConfigurationErrors()
    {
        var upstreams = new Dictionary<string, UpstreamOptions>
        {
            ["vllm"] = new UpstreamOptions { ResponseBodyTimeout = TimeSpan.Zero, StreamIdleTimeout = TimeSpan.FromSeconds(-1) },
        };

        var message = BuildError(upstreams, [Rule("*", "vllm")], Catalog("m"));

        Assert.Contains("Gateway:Upstreams:vllm: 'ResponseBodyTimeout' (00:00:00) must be positive", message, StringComparison.Ordinal);
        Assert.Contains("Gateway:Upstreams:vllm: 'StreamIdleTimeout' (-00:00:01) must be positive", message, StringComparison.Ordinal);
        Assert.DoesNotContain("'ResponseTimeout'", message, StringComparison.Ordinal);
    }

    [Fact]
    public void ResponseBodyTimeout_DefaultsToResponseTimeout()
    {
        var registry = Build(new() { ["vllm"] = new UpstreamOptions { ResponseTimeout = TimeSpan.FromSeconds(42) } }, [Rule("*", "vllm")], Catalog("m"));

        Assert.Equal(TimeSpan.FromSeconds(42), registry.Upstreams[0].ResponseBodyTimeout);
    }
}
