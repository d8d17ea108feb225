using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Guard.Prompts;
using Policies.Validation;

namespace Gateway.FunctionalTests.Policies;

/// <summary>Two named remote guard engines at once (<c>Guard:Engines</c>), each calling its own scripted guard server
/// over a real socket: every policy role is judged on the engine it names (the default when it names none), each
/// engine keeps its own family and log-probability setting, and <c>/readyz</c> shows each engine's health.</summary>
public sealed class SeveralGuardEnginesTests : IDisposable
{
    private const string OnAlpha = "@cf/meta/llama-2-7b-chat-fp16";
    private const string OnBeta = "@cf/meta/llama-3.1-8b-instruct-awq";
    private const string ByDefault = "@cf/mistral/mistral-7b-instruct-v0.1";
    private const string Marker = "UNSAFE-ON-BETA-ONLY";
    private const string FailMarker = "BETA-SERVER-FAILS-HERE";

    // alpha (Llama Guard 3, log-probabilities) is the default; beta (Llama Guard 1, none) is named by one policy.
    private const string PolicyFile = """
        policies:
          - name: by-default
            prompt: { failMode: closed, timeout: 30s }
            response: { check: false }
          - name: on-alpha
            match: { models: ["@cf/meta/llama-2-7b-chat-fp16"] }
            prompt: { engine: alpha, threshold: 0.5, failMode: closed, timeout: 30s }
            response: { check: false }
          - name: on-beta
            match: { models: ["@cf/meta/llama-3.1-8b-instruct-awq"] }
            prompt: { engine: Beta, categories: { O3: block }, failMode: closed, timeout: 30s }
            response: { check: false }
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-several-engines-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task EachPolicyRole_IsJudgedOnTheEngineItNames_AndTheOthersOnTheDefault()
    {
        var (upstream, alpha, beta, gateway) = await StartAsync(PolicyFile);
        await using (upstream)
        await using (alpha)
        await using (beta)
        await using (gateway)
        {
            beta.Answer(Marker, "unsafe\nO3");

            using var onAlpha = await gateway.Client.SendAsync(Chat(OnAlpha, $"alpha judges {Marker}"));
            using var onBeta = await gateway.Client.SendAsync(Chat(OnBeta, $"beta judges {Marker}"));
            using var byDefault = await gateway.Client.SendAsync(Chat(ByDefault, "the default judges this"));

            // The same text is safe to alpha and unsafe to beta: each request met its own engine.
            Assert.Equal(HttpStatusCode.OK, onAlpha.StatusCode);
            Assert.Equal("on-alpha", Header(onAlpha, "x-moderation-policy"));
            Assert.Equal("allowed", Header(onAlpha, "x-moderation-prompt"));
            Assert.Equal(HttpStatusCode.BadRequest, onBeta.StatusCode);
            Assert.Equal("on-beta", Header(onBeta, "x-moderation-policy"));
            Assert.Equal("blocked", Header(onBeta, "x-moderation-prompt"));
            Assert.Equal("O3", Header(onBeta, "x-moderation-prompt-categories"));
            Assert.Equal(HttpStatusCode.OK, byDefault.StatusCode);
            Assert.Equal("by-default", Header(byDefault, "x-moderation-policy"));
            Assert.Equal("allowed", Header(byDefault, "x-moderation-prompt"));
            Assert.Equal(2, upstream.Received.Count);

            // alpha: the named request and the default one, as Llama Guard 3 with log-probabilities.
            Assert.Collection(alpha.Requests,
                call =>
                {
                    Assert.Contains("alpha judges", call.Conversation, StringComparison.Ordinal);
                    Assert.Equal(ScriptedGuardServer.LlamaGuard3Model, call.Model);
                    Assert.Equal(5, call.Logprobs);
                    Assert.EndsWith("<|start_header_id|>assistant<|end_header_id|>", call.Prompt, StringComparison.Ordinal);
                },
                call =>
                {
                    Assert.Contains("the default judges this", call.Conversation, StringComparison.Ordinal);
                    Assert.Equal(ScriptedGuardServer.LlamaGuard3Model, call.Model);
                });
            // beta: only its own request, as Llama Guard 1 without log-probabilities.
            var betaCall = Assert.Single(beta.Requests);
            Assert.Contains("beta judges", betaCall.Conversation, StringComparison.Ordinal);
            Assert.Equal(ScriptedGuardServer.ModelFor(GuardFamily.LlamaGuard1), betaCall.Model);
            Assert.Null(betaCall.Logprobs);
            Assert.Equal("User", betaCall.Role);
            Assert.StartsWith("[INST]", betaCall.Prompt, StringComparison.Ordinal);
            Assert.Equal("Bearer " + ScriptedGuardServer.ApiToken, betaCall.Authorization);
        }
    }

    [Fact]
    public async Task ModerationsEndpoint_UsesTheDefaultEngine_UnderItsName()
    {
        var (upstream, alpha, beta, gateway) = await StartAsync(PolicyFile);
        await using (upstream)
        await using (alpha)
        await using (beta)
        await using (gateway)
        {
            using var response = await gateway.Client.PostAsync("v1/moderations",
                new StringContent("""{"input":"is this fine?"}""", Encoding.UTF8, "application/json"));
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var result = Assert.Single(json.RootElement.GetProperty("results").EnumerateArray());
            Assert.Equal("alpha", result.GetProperty("llama_guard").GetProperty("engine").GetString());
            Assert.Single(alpha.Requests);
            Assert.Empty(beta.Requests);
        }
    }

    [Fact]
    public async Task AThresholdOnTheEngineWithoutLogprobs_IsRefusedAtStartUp()
    {
        var file = """
            policies:
              - name: scored-on-beta
                prompt: { engine: beta, threshold: 0.8 }
                response: { check: false }
            """;

        var ex = await Assert.ThrowsAsync<PolicyValidationException>(() => StartAsync(file));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("policies[0].prompt.threshold", error.Path);
        Assert.Equal("The engine 'beta' reports no unsafe probability, so the threshold could never be compared.", error.Problem);
        Assert.Contains("policies[0].prompt.threshold: The engine 'beta' reports no unsafe probability", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readyz_ShowsEachEnginesHealth_AndAFailingEngineDegradesIt()
    {
        var (upstream, alpha, beta, gateway) = await StartAsync(PolicyFile, config => config["Guard:Engines:beta:Remote:MaxAttempts"] = "1");
        await using (upstream)
        await using (alpha)
        await using (beta)
        await using (gateway)
        {
            var (status, ready) = await ReadyAsync(gateway);
            Assert.Equal(HttpStatusCode.OK, status);
            var guard = ready.GetProperty("checks").GetProperty("guard");
            Assert.Equal("Healthy", guard.GetProperty("status").GetString());
            Assert.Equal("alpha", guard.GetProperty("data").GetProperty("default").GetString());
            var engines = guard.GetProperty("data").GetProperty("engines");
            Assert.Equal(["alpha", "beta"], engines.EnumerateObject().Select(p => p.Name));
            Assert.Equal(ScriptedGuardServer.ModelFor(GuardFamily.LlamaGuard1), engines.GetProperty("beta").GetProperty("model").GetString());
            Assert.Equal("LlamaGuard1", engines.GetProperty("beta").GetProperty("family").GetString());

            beta.Fail(FailMarker, 503);
            using var failed = await gateway.Client.SendAsync(Chat(OnBeta, FailMarker));
            Assert.Equal("fail-closed", Header(failed, "x-moderation-prompt"));

            (status, ready) = await ReadyAsync(gateway);
            Assert.Equal(HttpStatusCode.OK, status);
            guard = ready.GetProperty("checks").GetProperty("guard");
            Assert.Equal("Degraded", guard.GetProperty("status").GetString());
            engines = guard.GetProperty("data").GetProperty("engines");
            Assert.Equal("Healthy", engines.GetProperty("alpha").GetProperty("status").GetString());
            Assert.Equal("Degraded", engines.GetProperty("beta").GetProperty("status").GetString());
            Assert.Contains("beta", engines.GetProperty("beta").GetProperty("lastError").GetString(), StringComparison.Ordinal);
            Assert.Empty(alpha.Requests);
        }
    }

    private async Task<(ScriptedUpstream Upstream, ScriptedGuardServer Alpha, ScriptedGuardServer Beta, GatewayServer Gateway)> StartAsync(
        string policies, Action<Dictionary<string, string?>>? configure = null)
    {
        var file = Path.Combine(_directory, "policies.yaml");
        await File.WriteAllTextAsync(file, policies);
        var upstream = await ScriptedUpstream.StartAsync();
        ScriptedGuardServer? alpha = null;
        ScriptedGuardServer? beta = null;
        try
        {
            alpha = await ScriptedGuardServer.StartAsync();
            beta = await ScriptedGuardServer.StartAsync();
            var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
            // Explicit, so an environment variable on the test machine cannot add a single engine.
            config["Guard:Engine"] = "None";
            config["Guard:DefaultEngine"] = "alpha";
            foreach (var (key, value) in ScriptedGuardServer.EngineWith(alpha, "alpha", GuardFamily.LlamaGuard3, logprobs: true)
                .Concat(ScriptedGuardServer.EngineWith(beta, "beta", GuardFamily.LlamaGuard1, logprobs: false)))
            {
                config[key] = value;
            }
            config["Policies:Files:0"] = file;
            config["Policies:Watch"] = "false";
            configure?.Invoke(config);
            var gateway = await GatewayServer.StartAsync(config);
            return (upstream, alpha, beta, gateway);
        }
        catch
        {
            // The servers already started are stopped when the gateway cannot start.
            if (beta is not null)
            {
                await beta.DisposeAsync();
            }
            if (alpha is not null)
            {
                await alpha.DisposeAsync();
            }
            await upstream.DisposeAsync();
            throw;
        }
    }

    private static HttpRequestMessage Chat(string model, string prompt) =>
        ProxyRoundTripTests.Post("v1/chat/completions", $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{prompt}}"}]}""");

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyAsync(GatewayServer gateway)
    {
        using var response = await gateway.Client.GetAsync("/readyz");
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}
