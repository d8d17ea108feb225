using System.Net;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Gateway.Guarding;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.FunctionalTests.Policies;

/// <summary>The prompt check in the traffic path, over real sockets, with a scripted guard engine and a scripted
/// upstream: a blocked prompt never reaches the upstream (its own log proves it), is answered in the surface's format
/// without echoing the text, and the response metadata says which policy decided what.</summary>
public sealed class PromptCheckTests : IDisposable
{
    private const string Strict = "@cf/meta/llama-2-7b-chat-fp16";
    private const string Lenient = "@cf/meta/llama-3.1-8b-instruct-awq";
    private const string Hasty = "@cf/meta/llama-2-7b-chat-int8";
    private const string Marker = "UNSAFE-MARKER-build-a-weapon";
    private const string FailMarker = "GUARD-FAILS-HERE";

    private const string PolicyFile = """
        policies:
          - name: strict
            prompt: { defaultAction: block, failMode: closed, timeout: 30s }
            response: { check: false }
          - name: lenient
            match: { models: ["@cf/meta/llama-3.1-8b-instruct-awq"] }
            prompt: { defaultAction: flag, failMode: open, timeout: 30s }
            response: { check: false }
          - name: hasty
            match: { models: ["@cf/meta/llama-2-7b-chat-int8"] }
            prompt: { defaultAction: block, failMode: closed, timeout: 1s }
            response: { check: false }
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-prompt-check-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    public static TheoryData<string, bool> Routes => new()
    {
        { $"ai/run/{Strict}", true },
        { $"client/v4/accounts/acct/ai/run/{Strict}", true },
        { "v1/chat/completions", false },
        { "v1/completions", false },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task BlockedPrompt_NeverReachesTheUpstream_AndIsAnsweredInTheSurfacesFormat(string path, bool workersAi)
    {
        var (upstream, gateway, _) = await StartAsync();
        await using (upstream)
        await using (gateway)
        {
            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post(path, Body(path, Strict, $"please {Marker} now")));
            var text = await response.Content.ReadAsStringAsync();
            using var json = JsonDocument.Parse(text);

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            if (workersAi)
            {
                var error = json.RootElement.GetProperty("errors")[0];
                Assert.Equal(2016, error.GetProperty("code").GetInt32());
                Assert.StartsWith("Prompt blocked due to security configurations", error.GetProperty("message").GetString(), StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal("content_filter", json.RootElement.GetProperty("error").GetProperty("code").GetString());
            }
            Assert.Contains("O3", text, StringComparison.Ordinal);
            Assert.DoesNotContain(Marker, text, StringComparison.Ordinal);
            Assert.Equal("strict", Header(response, "x-moderation-policy"));
            Assert.Equal("blocked", Header(response, "x-moderation-prompt"));
            Assert.Equal("O3", Header(response, "x-moderation-prompt-categories"));
            Assert.Empty(upstream.Received);
            Assert.DoesNotContain(CapturingLoggerProvider.Instance.Lines, l => l.Contains(Marker, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task SafePrompt_IsForwarded_WithTheWholeConversationClassified()
    {
        var (upstream, gateway, engine) = await StartAsync();
        await using (upstream)
        await using (gateway)
        {
            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post("v1/chat/completions", $$"""
                {"model":"{{Strict}}","messages":[
                  {"role":"system","content":"system part"},
                  {"role":"user","content":"first part"},
                  {"role":"assistant","content":"ok"},
                  {"role":"user","content":"second part"}]}
                """));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("allowed", Header(response, "x-moderation-prompt"));
            Assert.Single(upstream.Received);
            var judged = string.Join("\n", engine.Conversations[^1].Turns.Select(t => t.Content));
            Assert.Contains("system part", judged, StringComparison.Ordinal);
            Assert.Contains("first part", judged, StringComparison.Ordinal);
            Assert.Contains("second part", judged, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task FlaggingPolicy_Forwards_AndSaysWhichCategories()
    {
        var (upstream, gateway, _) = await StartAsync();
        await using (upstream)
        await using (gateway)
        {
            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Lenient}", $$"""{"prompt":"{{Marker}}"}"""));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("lenient", Header(response, "x-moderation-policy"));
            Assert.Equal("flagged", Header(response, "x-moderation-prompt"));
            Assert.Equal("O3", Header(response, "x-moderation-prompt-categories"));
            Assert.Single(upstream.Received);
        }
    }

    [Theory]
    [InlineData(Strict, "fail-closed")]
    [InlineData(Lenient, "fail-open")]
    public async Task GuardFailure_AppliesThePolicysFailMode(string model, string outcome)
    {
        var (upstream, gateway, _) = await StartAsync();
        await using (upstream)
        await using (gateway)
        {
            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{model}", $$"""{"prompt":"{{FailMarker}}"}"""));
            var text = await response.Content.ReadAsStringAsync();

            Assert.Equal(outcome, Header(response, "x-moderation-prompt"));
            if (outcome == "fail-closed")
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.Contains("fails closed", text, StringComparison.Ordinal);
                Assert.Empty(upstream.Received);
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Single(upstream.Received);
            }
            Assert.Contains(CapturingLoggerProvider.Instance.Lines, l => l.Contains("had no usable verdict", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task GuardSlowerThanThePolicysTimeout_FailsClosed()
    {
        var (upstream, gateway, engine) = await StartAsync();
        engine.Delay = TimeSpan.FromHours(1);
        await using (upstream)
        await using (gateway)
        {
            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Hasty}", """{"prompt":"hello"}"""));

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("hasty", Header(response, "x-moderation-policy"));
            Assert.Equal("fail-closed", Header(response, "x-moderation-prompt"));
            Assert.Empty(upstream.Received);
        }
    }

    private async Task<(ScriptedUpstream Upstream, GatewayServer Gateway, ScriptedGuardEngine Engine)> StartAsync()
    {
        var file = Path.Combine(_directory, "policies.yaml");
        await File.WriteAllTextAsync(file, PolicyFile);
        var engine = new ScriptedGuardEngine()
            .Answer(Marker, "unsafe\nO3")
            .Fail(FailMarker, "scripted guard failure", transient: true);
        var upstream = await ScriptedUpstream.StartAsync();
        var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
        config["Policies:Files:0"] = file;
        config["Policies:Watch"] = "false";
        var gateway = await GatewayServer.StartAsync(config, services => services.AddSingleton(new GuardEngineProvider(engine)));
        return (upstream, gateway, engine);
    }

    private static string Body(string path, string model, string prompt) => path.StartsWith("v1/chat", StringComparison.Ordinal)
        ? $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{prompt}}"}]}"""
        : path.StartsWith("v1/", StringComparison.Ordinal)
            ? $$"""{"model":"{{model}}","prompt":"{{prompt}}"}"""
            : $$"""{"prompt":"{{prompt}}"}""";

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}
