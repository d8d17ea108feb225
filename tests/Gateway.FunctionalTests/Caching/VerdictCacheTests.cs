using System.Net;
using Gateway.FunctionalTests.Infrastructure;

namespace Gateway.FunctionalTests.Caching;

/// <summary>The verdict cache in the traffic path, with the real remote engine and a scripted guard server counting
/// its calls: a repeated check is a hit, and nothing that can change a verdict (model, taxonomy, tenant) shares one.</summary>
public sealed class VerdictCacheTests : IDisposable
{
    private const string PolicyFile = """
        policies:
          - name: standard
            prompt: { defaultAction: block, failMode: closed, timeout: 20s }
            response: { check: false }
          - name: custom-taxonomy
            match: { models: ["@cf/meta/llama-3.1-8b-instruct-awq"] }
            prompt:
              defaultAction: block
              failMode: closed
              timeout: 20s
              taxonomy:
                replace: true
                categories:
                  - { code: C1, name: Money Laundering, description: "Should not\n- help move money to hide its origin." }
            response: { check: false }
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-verdict-cache-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task ARepeatedPrompt_IsAHit_AndSaysSo()
    {
        await using var guard = await ScriptedGuardServer.StartAsync();
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, guard);

        using var first = await gateway.Client.SendAsync(ProxyRoundTripTests.Post("ai/run/@cf/meta/llama-2-7b-chat-fp16", """{"prompt":"same words"}"""));
        using var second = await gateway.Client.SendAsync(ProxyRoundTripTests.Post("ai/run/@cf/meta/llama-2-7b-chat-fp16", """{"prompt":"same words"}"""));

        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal("miss", Header(first, "x-moderation-prompt-cache"));
        Assert.Equal("hit", Header(second, "x-moderation-prompt-cache"));
        Assert.Equal("allowed", Header(second, "x-moderation-prompt"));
        Assert.Equal(1, guard.Calls);
    }

    [Fact]
    public async Task ACachedUnsafeVerdict_StillBlocks_WithItsCategories()
    {
        await using var guard = await ScriptedGuardServer.StartAsync();
        guard.Answer("MARKER-9931", "unsafe\nS2,S9");
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, guard);

        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post("ai/run/@cf/meta/llama-2-7b-chat-fp16", """{"prompt":"MARKER-9931"}"""));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("S2,S9", Header(response, "x-moderation-prompt-categories"));
            Assert.Equal(i == 0 ? "miss" : "hit", Header(response, "x-moderation-prompt-cache"));
        }
        Assert.Equal(1, guard.Calls);
        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task TenantsTaxonomiesAndUnparseableAnswers_NeverShareAVerdict()
    {
        await using var guard = await ScriptedGuardServer.StartAsync();
        guard.Answer("GARBLED", "I am not sure");
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await StartAsync(upstream, guard, apiKeys: true);

        async Task<string?> SendAsync(string key, string model, string prompt)
        {
            using var request = ProxyRoundTripTests.Post($"ai/run/{model}", $$"""{"prompt":"{{prompt}}"}""");
            request.Headers.Authorization = new("Bearer", key);
            using var response = await gateway.Client.SendAsync(request);
            return Header(response, "x-moderation-prompt-cache");
        }

        Assert.Equal("miss", await SendAsync("key-alpha", "@cf/meta/llama-2-7b-chat-fp16", "shared text"));
        Assert.Equal("hit", await SendAsync("key-alpha", "@cf/meta/llama-2-7b-chat-fp16", "shared text"));
        // Another tenant, and another taxonomy for the same tenant: both judged anew.
        Assert.Equal("miss", await SendAsync("key-beta", "@cf/meta/llama-2-7b-chat-fp16", "shared text"));
        Assert.Equal("miss", await SendAsync("key-alpha", "@cf/meta/llama-3.1-8b-instruct-awq", "shared text"));
        Assert.Equal("hit", await SendAsync("key-alpha", "@cf/meta/llama-3.1-8b-instruct-awq", "shared text"));
        // An unparseable answer is never cached.
        Assert.Equal("miss", await SendAsync("key-alpha", "@cf/meta/llama-2-7b-chat-fp16", "GARBLED"));
        Assert.Equal("miss", await SendAsync("key-alpha", "@cf/meta/llama-2-7b-chat-fp16", "GARBLED"));
        Assert.Equal(5, guard.Calls);
    }

    private async Task<GatewayServer> StartAsync(ScriptedUpstream upstream, ScriptedGuardServer guard, bool apiKeys = false)
    {
        var file = Path.Combine(_directory, "policies.yaml");
        await File.WriteAllTextAsync(file, PolicyFile);
        var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
        foreach (var (key, value) in ScriptedGuardServer.GuardWith(guard))
        {
            config[key] = value;
        }
        config["Policies:Files:0"] = file;
        config["Policies:Watch"] = "false";
        if (apiKeys)
        {
            config["Auth:Mode"] = "ApiKeys";
            config["Auth:Keys:0:Tenant"] = "alpha";
            config["Auth:Keys:0:Sha256"] = Sha256("key-alpha");
            config["Auth:Keys:1:Tenant"] = "beta";
            config["Auth:Keys:1:Sha256"] = Sha256("key-beta");
        }
        return await GatewayServer.StartAsync(config);
    }

    private static string Sha256(string text) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}
