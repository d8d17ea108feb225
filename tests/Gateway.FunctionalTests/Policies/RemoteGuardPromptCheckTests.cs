using System.Globalization;
using System.Net;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Guard.Prompts;

namespace Gateway.FunctionalTests.Policies;

/// <summary>The prompt check end to end through the gateway's real remote engine (<c>Guard:Engine</c> <c>OpenAi</c>),
/// which renders the Llama Guard prompt and calls a scripted OpenAI-compatible guard server over a real socket: blocks
/// never reach the upstream, thresholds read the server's log-probabilities, and the server's errors and stalls apply
/// each policy's fail mode.</summary>
public sealed class RemoteGuardPromptCheckTests : IDisposable
{
    private const string Strict = "@cf/meta/llama-2-7b-chat-fp16";
    private const string Lenient = "@cf/meta/llama-3.1-8b-instruct-awq";
    private const string Scored = "@cf/mistral/mistral-7b-instruct-v0.1";
    private const string HastyClosed = "@cf/meta/llama-2-7b-chat-int8";
    private const string HastyOpen = "@hf/thebloke/codellama-7b-instruct-awq";
    private const string Marker = "UNSAFE-MARKER-build-a-weapon";
    private const string FailMarker = "GUARD-SERVER-FAILS-HERE";
    private const string StallMarker = "GUARD-SERVER-STALLS-HERE";

    private const string PolicyFile = """
        policies:
          - name: strict
            prompt: { defaultAction: block, failMode: closed, timeout: 30s }
            response: { check: false }
          - name: lenient
            match: { models: ["@cf/meta/llama-3.1-8b-instruct-awq"] }
            prompt: { defaultAction: flag, failMode: open, timeout: 30s }
            response: { check: false }
          - name: scored
            match: { models: ["@cf/mistral/mistral-7b-instruct-v0.1"] }
            prompt: { defaultAction: block, threshold: 0.8, belowThreshold: flag, failMode: closed, timeout: 30s }
            response: { check: false }
          - name: hasty-closed
            match: { models: ["@cf/meta/llama-2-7b-chat-int8"] }
            prompt: { defaultAction: block, failMode: closed, timeout: 1s }
            response: { check: false }
          - name: hasty-open
            match: { models: ["@hf/thebloke/codellama-7b-instruct-awq"] }
            prompt: { defaultAction: block, failMode: open, timeout: 1s }
            response: { check: false }
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-remote-prompt-check-").FullName;

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
        var (upstream, guard, gateway) = await StartAsync();
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            guard.Answer(Marker, "unsafe\nS1");

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
            Assert.DoesNotContain(Marker, text, StringComparison.Ordinal);
            Assert.Equal("strict", Header(response, "x-moderation-policy"));
            Assert.Equal("blocked", Header(response, "x-moderation-prompt"));
            Assert.Equal("S1", Header(response, "x-moderation-prompt-categories"));
            Assert.Empty(upstream.Received);

            // What the real engine sent: the served model, greedy decoding, log-probabilities, the configured token.
            var call = Assert.Single(guard.Requests);
            Assert.Equal(ScriptedGuardServer.LlamaGuard3Model, call.Model);
            Assert.Equal("User", call.Role);
            Assert.Contains(Marker, call.Conversation, StringComparison.Ordinal);
            Assert.Equal(0, call.Temperature);
            Assert.Equal(24, call.MaxTokens);
            Assert.Equal(5, call.Logprobs);
            Assert.Equal("Bearer " + ScriptedGuardServer.ApiToken, call.Authorization);
            Assert.EndsWith("<|start_header_id|>assistant<|end_header_id|>", call.Prompt, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SafePrompt_IsForwarded_WithTheWholeConversationJudged()
    {
        var (upstream, guard, gateway) = await StartAsync();
        await using (upstream)
        await using (guard)
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
            var call = Assert.Single(guard.Requests);
            Assert.Equal("User", call.Role);
            Assert.Contains("system part", call.Conversation, StringComparison.Ordinal);
            Assert.Contains("first part", call.Conversation, StringComparison.Ordinal);
            Assert.Contains("Agent: ok", call.Conversation, StringComparison.Ordinal);
            Assert.EndsWith("User: second part\n\n", call.Conversation, StringComparison.Ordinal);
            Assert.Equal(1, guard.Calls);
            Assert.Equal(0, guard.InFlight);
        }
    }

    [Fact]
    public async Task Rules_MatchOnlyTheJudgedConversationAndRole()
    {
        var (upstream, guard, gateway) = await StartAsync();
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            // "Violent Crimes" is S1's name in the taxonomy every prompt lists; a prompt check judges the user role.
            guard.Answer("Violent Crimes", "unsafe\nS1").Answer(Marker, "unsafe\nS1", role: "Agent");

            using var taxonomyOnly = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Strict}", """{"prompt":"hello"}"""));
            using var agentRuleOnly = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Strict}", $$"""{"prompt":"{{Marker}}"}"""));

            Assert.Equal(HttpStatusCode.OK, taxonomyOnly.StatusCode);
            Assert.Equal("allowed", Header(taxonomyOnly, "x-moderation-prompt"));
            Assert.Equal(HttpStatusCode.OK, agentRuleOnly.StatusCode);
            Assert.Equal("allowed", Header(agentRuleOnly, "x-moderation-prompt"));
            Assert.Equal(2, upstream.Received.Count);
            Assert.All(guard.Requests, call =>
            {
                Assert.Contains("Violent Crimes", call.Prompt, StringComparison.Ordinal);
                Assert.DoesNotContain("Violent Crimes", call.Conversation, StringComparison.Ordinal);
                Assert.Equal("User", call.Role);
            });
        }
    }

    [Theory]
    [InlineData(GuardFamily.LlamaGuard1, "unsafe\nO3", "O3")]
    [InlineData(GuardFamily.LlamaGuard2, "unsafe\nS2", "S2")]
    [InlineData(GuardFamily.LlamaGuard3, "unsafe\nS1,S9", "S1,S9")]
    public async Task EachFamilysPrompt_IsJudgedOnItsConversation(GuardFamily family, string output, string categories)
    {
        var (upstream, guard, gateway) = await StartAsync(family);
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            guard.Answer(Marker, output);

            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Strict}", $$"""{"prompt":"{{Marker}}"}"""));

            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(categories, Header(response, "x-moderation-prompt-categories"));
            Assert.Empty(upstream.Received);
            var call = Assert.Single(guard.Requests);
            Assert.Equal(ScriptedGuardServer.ModelFor(family), call.Model);
            Assert.Equal($"User: {Marker}\n\n", call.Conversation);
        }
    }

    [Theory]
    [InlineData(0.95, "blocked")]
    [InlineData(0.3, "flagged")]
    public async Task ThresholdPolicy_ReadsTheServersLogprobs_BlockingAboveAndFlaggingBelow(double probability, string outcome)
    {
        var (upstream, guard, gateway) = await StartAsync();
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            guard.Answer(Marker, "unsafe\nS1", probability);

            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Scored}", $$"""{"prompt":"{{Marker}}"}"""));

            Assert.Equal("scored", Header(response, "x-moderation-policy"));
            Assert.Equal(outcome, Header(response, "x-moderation-prompt"));
            Assert.Equal("S1", Header(response, "x-moderation-prompt-categories"));
            if (outcome == "blocked")
            {
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.Empty(upstream.Received);
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Single(upstream.Received);
            }
            Assert.Equal(5, Assert.Single(guard.Requests).Logprobs);
        }
    }

    public static TheoryData<string, string, string> Failures => new()
    {
        { Strict, FailMarker, "fail-closed" },
        { Lenient, FailMarker, "fail-open" },
        { HastyClosed, StallMarker, "fail-closed" },
        { HastyOpen, StallMarker, "fail-open" },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task GuardServerErrorOrStall_AppliesThePolicysFailMode(string model, string marker, string outcome)
    {
        var (upstream, guard, gateway) = await StartAsync(maxAttempts: 2);
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            // A stall outlasts the policy's 1 s timeout (the engine's own attempt timeout is 10 s).
            guard.Fail(FailMarker, 500).Stall(StallMarker);

            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{model}", $$"""{"prompt":"{{marker}}"}"""));
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
            Assert.DoesNotContain(marker, text, StringComparison.Ordinal);
            if (marker == FailMarker)
            {
                // HTTP 500 is transient: the engine retried once before giving up.
                Assert.Equal(2, guard.Calls);
            }
            else
            {
                Assert.Equal(1, guard.Calls);
            }
        }
    }

    private async Task<(ScriptedUpstream Upstream, ScriptedGuardServer Guard, GatewayServer Gateway)> StartAsync(
        GuardFamily family = GuardFamily.LlamaGuard3, int? maxAttempts = null)
    {
        var file = Path.Combine(_directory, "policies.yaml");
        await File.WriteAllTextAsync(file, PolicyFile);
        var upstream = await ScriptedUpstream.StartAsync();
        ScriptedGuardServer? guard = null;
        try
        {
            guard = await ScriptedGuardServer.StartAsync();
            var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
            foreach (var (key, value) in ScriptedGuardServer.GuardWith(guard, family))
            {
                config[key] = value;
            }
            if (maxAttempts is { } attempts)
            {
                config["Guard:Remote:MaxAttempts"] = attempts.ToString(CultureInfo.InvariantCulture);
            }
            config["Policies:Files:0"] = file;
            config["Policies:Watch"] = "false";
            var gateway = await GatewayServer.StartAsync(config);
            return (upstream, guard, gateway);
        }
        catch
        {
            // The servers already started are stopped when the gateway cannot start.
            if (guard is not null)
            {
                await guard.DisposeAsync();
            }
            await upstream.DisposeAsync();
            throw;
        }
    }

    private static string Body(string path, string model, string prompt) => path.StartsWith("v1/chat", StringComparison.Ordinal)
        ? $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{prompt}}"}]}"""
        : path.StartsWith("v1/", StringComparison.Ordinal)
            ? $$"""{"model":"{{model}}","prompt":"{{prompt}}"}"""
            : $$"""{"prompt":"{{prompt}}"}""";

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}
