using Policies.Model;

namespace Policies.Tests.Model;

public class SelectionTests
{
    private static readonly PolicySetModel Set = TestPolicies.Valid("""
        policies:
          - name: default
          - name: route-chat
            match: { routes: [openai-chat] }
          - name: meta-glob
            match: { models: ["@cf/meta/*"] }
          - name: meta-glob-chat
            match: { models: ["@cf/meta/*"], routes: [openai-chat] }
          - name: llama3-exact
            match: { models: ["@cf/meta/llama-3-8b-instruct"] }
          - name: tenant-acme
            match: { tenants: [acme] }
          - name: tenant-acme-chat
            match: { tenants: [acme], routes: [openai-chat] }
          - name: tenant-acme-meta
            match: { tenants: [acme], models: ["@cf/meta/*"] }
          - name: tenant-globex-llama3
            match: { tenants: [globex, initech], models: ["@cf/meta/llama-3-8b-instruct"] }
          - name: mistral-low
            match: { models: ["@cf/mistral/*"] }
          - name: mistral-high
            priority: 1
            match: { models: ["@cf/mistral/*"] }
          - name: star-is-any
            match: { models: ["*"], routes: [openai-completions] }
        """);

    /// <summary>The precedence table: tenant over model over route; an exact model over a glob; priority breaks ties.</summary>
    [Theory]
    [InlineData("workers-ai", "@cf/qwen/qwen1.5-7b-chat-awq", null, "default")]
    [InlineData("openai-chat", "@cf/qwen/qwen1.5-7b-chat-awq", null, "route-chat")]
    [InlineData("workers-ai", "@cf/meta/llama-2-7b-chat-int8", null, "meta-glob")]
    [InlineData("openai-chat", "@cf/meta/llama-2-7b-chat-int8", null, "meta-glob-chat")]
    [InlineData("openai-chat", "@cf/meta/llama-3-8b-instruct", null, "llama3-exact")]
    [InlineData("workers-ai", "@CF/Meta/Llama-3-8B-Instruct", null, "llama3-exact")]
    [InlineData("workers-ai", "@cf/meta", null, "default")]
    [InlineData("workers-ai", "@cf/qwen/qwen1.5-7b-chat-awq", "acme", "tenant-acme")]
    [InlineData("openai-chat", "@cf/qwen/qwen1.5-7b-chat-awq", "acme", "tenant-acme-chat")]
    [InlineData("openai-chat", "@cf/meta/llama-2-7b-chat-int8", "acme", "tenant-acme-meta")]
    [InlineData("workers-ai", "@cf/meta/llama-3-8b-instruct", "acme", "tenant-acme-meta")]
    [InlineData("workers-ai", "@cf/meta/llama-3-8b-instruct", "globex", "tenant-globex-llama3")]
    [InlineData("workers-ai", "@cf/meta/llama-3-8b-instruct", "initech", "tenant-globex-llama3")]
    [InlineData("workers-ai", "@cf/meta/llama-2-7b-chat-int8", "globex", "meta-glob")]
    [InlineData("workers-ai", "@cf/qwen/qwen1.5-7b-chat-awq", "ACME", "default")]
    [InlineData("openai-chat", "@cf/qwen/qwen1.5-7b-chat-awq", "unknown-tenant", "route-chat")]
    [InlineData("workers-ai", "@cf/mistral/mistral-7b-instruct-v0.1", null, "mistral-high")]
    [InlineData("workers-ai", "@cf/mistral/mistral-7b-instruct-v0.1", "acme", "tenant-acme")]
    [InlineData("openai-completions", "@cf/qwen/qwen1.5-7b-chat-awq", null, "star-is-any")]
    [InlineData("OpenAI-Completions", "anything", null, "star-is-any")]
    [InlineData("openai-completions", "@cf/meta/llama-2-7b-chat-int8", null, "meta-glob")]
    public void Select_PicksTheMostSpecificPolicy(string route, string model, string? tenant, string expected)
    {
        Assert.Equal(expected, Set.Select(route, model, tenant).Name);
    }

    [Fact]
    public void StarAlone_MatchesAnyModel_AtRouteRank()
    {
        Assert.Empty(Set.ByName["star-is-any"].Match.Models);
    }

    [Fact]
    public void Select_ReturnsTheSameInstance_AndDoesNotAllocate()
    {
        var first = Set.Select("openai-chat", "@cf/meta/llama-2-7b-chat-int8", "acme");
        var same = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            same += ReferenceEquals(first, Set.Select("openai-chat", "@cf/meta/llama-2-7b-chat-int8", "acme")) ? 1 : 0;
            same += Set.Select("workers-ai", "@cf/qwen/qwen1.5-7b-chat-awq", null) is not null ? 0 : -1;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1000, same);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void LockedPolicy_IsNeverOutranked_AndLessSpecificPoliciesMayCoexist()
    {
        var set = TestPolicies.Valid("""
            policies:
              - name: default
              - name: meta
                match: { models: ["@cf/meta/*"] }
              - name: acme-baseline
                locked: true
                match: { tenants: [acme] }
              - name: globex-llama
                match: { tenants: [globex], models: ["@cf/meta/*"] }
            """);

        Assert.Equal("acme-baseline", set.Select("workers-ai", "@cf/meta/llama-2-7b-chat-int8", "acme").Name);
        Assert.Equal("globex-llama", set.Select("workers-ai", "@cf/meta/llama-2-7b-chat-int8", "globex").Name);
        Assert.True(set.ByName["acme-baseline"].Locked);
    }

    [Fact]
    public void BuiltInDefault_FlagsEverything_FailsOpen_WithTheDefaultEngine()
    {
        var set = PolicyDefaults.BuiltIn(TestEngines.Default, TestPolicies.LoadedAt);

        Assert.True(set.IsBuiltInDefault);
        var policy = set.Select("workers-ai", "any", null);
        Assert.Equal(PolicyDefaults.BuiltInName, policy.Name);
        foreach (var role in new[] { policy.Prompt, policy.Response })
        {
            Assert.True(role.Check);
            Assert.Equal("onnx", role.Engine);
            Assert.Equal(FailMode.Open, role.FailMode);
            Assert.Equal(PolicyAction.Flag, role.UnknownCategoryAction);
            Assert.Equal(6, role.Categories.Count);
            Assert.All(role.Categories.Values, r => Assert.Equal(new CategoryRule(PolicyAction.Flag), r));
        }

        Assert.Equal(StreamingSettings.Default, policy.Response.Streaming);
    }

    [Fact]
    public void BuiltInDefault_WithoutEngines_ChecksNothing()
    {
        var policy = PolicyDefaults.BuiltIn(PolicyEngines.None, TestPolicies.LoadedAt).Policies[0];

        Assert.False(policy.Prompt.Check);
        Assert.False(policy.Response.Check);
    }

    [Fact]
    public void ManyTenantPolicies_ValidateAndSelectQuickly()
    {
        var text = new System.Text.StringBuilder("policies:\n  - name: default\n  - name: meta\n    match: { models: [\"@cf/meta/*\"] }\n");
        for (var i = 0; i < 5000; i++)
        {
            text.Append("  - { name: t").Append(i).Append(", match: { tenants: [tenant-").Append(i).Append("] } }\n");
            text.Append("  - { name: t").Append(i).Append("-meta, match: { tenants: [tenant-").Append(i).Append("], models: [\"@cf/meta/*\"] } }\n");
        }

        var started = System.Diagnostics.Stopwatch.StartNew();
        var set = TestPolicies.Valid(text.ToString());

        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), $"{started.Elapsed}");
        Assert.Equal("t4321-meta", set.Select("workers-ai", "@cf/meta/llama-3-8b-instruct", "tenant-4321").Name);
        Assert.Equal("t4321", set.Select("workers-ai", "@cf/qwen/x", "tenant-4321").Name);
        Assert.Equal("meta", set.Select("workers-ai", "@cf/meta/x", "tenant-x").Name);
    }
}
