using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Guard.Prompts;

namespace Gateway.FunctionalTests.Guarding;

/// <summary>The local ONNX engine and a remote one at once: the ONNX engine (a builder-made model) is the default, a
/// vLLM-style engine (a scripted server) judges the policy that names it. Random weights give meaningless verdicts, so
/// these tests check where each check ran, never a particular verdict.</summary>
public sealed class OnnxBesideRemoteEngineTests(RandomGuardModelFixture model) : IClassFixture<RandomGuardModelFixture>, IDisposable
{
    private const string OnVllm = "@cf/meta/llama-3.1-8b-instruct-awq";
    private const string OnLocal = "@cf/meta/llama-2-7b-chat-fp16";

    // A threshold on the local engine is accepted: ONNX verdicts carry an unsafe probability.
    private const string PolicyFile = """
        policies:
          - name: on-local
            prompt: { threshold: 0.5, belowThreshold: flag, failMode: open, timeout: 60s }
            response: { check: false }
          - name: on-vllm
            match: { models: ["@cf/meta/llama-3.1-8b-instruct-awq"] }
            prompt: { engine: vllm, failMode: closed, timeout: 30s }
            response: { check: false }
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-onnx-beside-remote-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task EachPolicy_IsJudgedOnItsEngine_AndTheDefaultServesModerations()
    {
        var file = Path.Combine(_directory, "policies.yaml");
        await File.WriteAllTextAsync(file, PolicyFile);
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var vllm = await ScriptedGuardServer.StartAsync();
        var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
        config["Guard:Engine"] = "None";
        config["Guard:DefaultEngine"] = "local";
        config["Guard:Engines:local:Engine"] = "Onnx";
        config["Guard:Engines:local:Onnx:ModelDirectory"] = model.Directory;
        config["Guard:Engines:local:Onnx:MaxConcurrency"] = "2";
        foreach (var (key, value) in ScriptedGuardServer.EngineWith(vllm, "vllm", GuardFamily.LlamaGuard3, logprobs: false))
        {
            config[key] = value;
        }
        config["Policies:Files:0"] = file;
        config["Policies:Watch"] = "false";
        await using var gateway = await GatewayServer.StartAsync(config);

        using var local = await gateway.Client.SendAsync(Chat(OnLocal, "judged in the gateway's process"));
        using var remote = await gateway.Client.SendAsync(Chat(OnVllm, "judged by the vLLM server"));
        using var moderations = await gateway.Client.PostAsync("v1/moderations",
            new StringContent("""{"input":"moderated by the default"}""", Encoding.UTF8, "application/json"));
        using var json = JsonDocument.Parse(await moderations.Content.ReadAsStringAsync());

        Assert.Equal("on-local", Header(local, "x-moderation-policy"));
        Assert.Contains(Header(local, "x-moderation-prompt"), new[] { "allowed", "flagged", "blocked", "fail-open" });
        Assert.Equal(HttpStatusCode.OK, remote.StatusCode);
        Assert.Equal("on-vllm", Header(remote, "x-moderation-policy"));
        Assert.Equal("allowed", Header(remote, "x-moderation-prompt"));
        var call = Assert.Single(vllm.Requests);
        Assert.Contains("judged by the vLLM server", call.Conversation, StringComparison.Ordinal);
        Assert.Null(call.Logprobs);

        Assert.Equal(HttpStatusCode.OK, moderations.StatusCode);
        Assert.Equal("random-tiny-test", json.RootElement.GetProperty("model").GetString());
        var guard = Assert.Single(json.RootElement.GetProperty("results").EnumerateArray()).GetProperty("llama_guard");
        Assert.Equal("local", guard.GetProperty("engine").GetString());
        Assert.InRange(guard.GetProperty("unsafe_probability").GetDouble(), 0, 1);
        Assert.Single(vllm.Requests);
    }

    private static HttpRequestMessage Chat(string model, string prompt) =>
        ProxyRoundTripTests.Post("v1/chat/completions", $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{prompt}}"}]}""");

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}
