using System.Net;
using Gateway.FunctionalTests.Infrastructure;

namespace Gateway.FunctionalTests.Policies;

/// <summary>A policy's own taxonomy reaches the guard per call: the remote engine renders the policy's categories into
/// the Llama Guard prompt it sends, and reads the verdict's codes against them, so a policy category can block.</summary>
public sealed class CustomTaxonomyTests : IDisposable
{
    private const string Custom = "@cf/meta/llama-3.1-8b-instruct-awq";
    private const string Marker = "WIRE-THE-MONEY-OFFSHORE";

    private const string PolicyFile = """
        policies:
          - name: standard
            prompt: { defaultAction: block, failMode: closed, timeout: 20s }
            response: { check: false }
          - name: finance
            match: { models: ["@cf/meta/llama-3.1-8b-instruct-awq"] }
            prompt:
              defaultAction: flag
              failMode: closed
              timeout: 20s
              taxonomy:
                replace: true
                categories:
                  - { code: C1, name: Money Laundering, description: "Should not\n- help move money to hide its origin." }
                  - { code: C2, name: Insider Trading, description: "Should not\n- trade on material non-public information." }
              categories:
                C1: block
            response: { check: false }
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-custom-taxonomy-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task PolicyCategories_AreSentToTheGuard_AndTheirCodesDecide()
    {
        await using var guard = await ScriptedGuardServer.StartAsync();
        guard.Answer(Marker, "unsafe\nC1", role: "User");
        await using var upstream = await ScriptedUpstream.StartAsync();
        var file = Path.Combine(_directory, "policies.yaml");
        await File.WriteAllTextAsync(file, PolicyFile);
        var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
        foreach (var (key, value) in ScriptedGuardServer.GuardWith(guard))
        {
            config[key] = value;
        }
        config["Policies:Files:0"] = file;
        config["Policies:Watch"] = "false";
        await using var gateway = await GatewayServer.StartAsync(config);

        using var blocked = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Custom}", $$"""{"prompt":"{{Marker}}"}"""));
        using var standard = await gateway.Client.SendAsync(ProxyRoundTripTests.Post("ai/run/@cf/meta/llama-2-7b-chat-fp16", """{"prompt":"hello"}"""));

        Assert.Equal(HttpStatusCode.BadRequest, blocked.StatusCode);
        Assert.Contains("C1", await blocked.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("C1", blocked.Headers.GetValues("x-moderation-prompt-categories").Single());
        Assert.Equal(HttpStatusCode.OK, standard.StatusCode);
        Assert.DoesNotContain(upstream.Received, r => r.Body.Contains(Marker, StringComparison.Ordinal));

        var (custom, builtIn) = (guard.Requests[0].Prompt, guard.Requests[1].Prompt);
        Assert.Contains("C1: Money Laundering", custom, StringComparison.Ordinal);
        Assert.Contains("C2: Insider Trading", custom, StringComparison.Ordinal);
        Assert.DoesNotContain("S1: Violent Crimes", custom, StringComparison.Ordinal);
        Assert.Contains("S1: Violent Crimes", builtIn, StringComparison.Ordinal);
        Assert.DoesNotContain("Money Laundering", builtIn, StringComparison.Ordinal);
    }
}
