using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.FunctionalTests.OfficialClients;

/// <summary>The official <c>openai</c> npm client against the gateway's OpenAI surface, to both upstream kinds,
/// over real sockets (js/openai-client.mjs does the calls and its own checks; these assert its report again).</summary>
public sealed class OpenAiNpmClientTests(ITestOutputHelper output)
{
    private const string Model = "@cf/meta/llama-2-7b-chat-fp16";
    private const string Text = "Scripted upstream says hello.";

    [Theory]
    [InlineData("WorkersAi")]
    [InlineData("OpenAi")]
    public async Task OpenAiClient_CompletesStreamsListsAndThrowsTypedErrors(string kind)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));

        var result = await NodeClientScript.RunAsync("openai-client.mjs", gateway.BaseAddress);
        output.WriteLine(result.Describe());

        NodeClientScript.AssertPassed(result);
        foreach (var scenario in new[] { "chatNonStream", "chatStream", "chatStreamHelper", "completionNonStream", "completionStream" })
        {
            Assert.Equal(Text, result.Scenario(scenario).GetProperty("text").GetString());
            Assert.Equal(12, result.Scenario(scenario).GetProperty("usage").GetProperty("total_tokens").GetInt32());
        }
        Assert.True(result.Scenario("chatStream").GetProperty("chunks").GetInt32() > 1);
        Assert.True(result.Scenario("completionStream").GetProperty("chunks").GetInt32() > 1);
        Assert.Contains(Model, result.Scenario("modelsList").GetProperty("ids").EnumerateArray().Select(e => e.GetString()));

        var badRequest = result.Scenario("invalidTemperatureIsBadRequest");
        Assert.Contains("BadRequestError", badRequest.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(400, badRequest.GetProperty("status").GetInt32());
        Assert.Equal("'temperature' must be between 0 and 2, got 9", badRequest.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal("temperature", badRequest.GetProperty("param").GetString());
        var notFound = result.Scenario("unknownModelIsNotFound").GetProperty("create");
        Assert.Contains("NotFoundError", notFound.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(404, notFound.GetProperty("status").GetInt32());
        Assert.Equal("model_not_found", notFound.GetProperty("code").GetString());

        // Five generations reached the upstream (models and rejected requests never do), each with the gateway's token.
        var received = upstream.Received.ToList();
        Assert.Equal(5, received.Count);
        OfficialClientAssertions.UpstreamSawOnlyGatewayCredentials(received, "client-key");
        var paths = received.Select(r => r.Path).ToList();
        if (kind == "WorkersAi")
        {
            Assert.All(paths, p => Assert.Equal($"/client/v4/accounts/gateway-account/ai/run/{Model}", p));
        }
        else
        {
            Assert.Equal(["/v1/chat/completions", "/v1/chat/completions", "/v1/chat/completions", "/v1/completions", "/v1/completions"], paths);
            Assert.All(received, r => Assert.Equal(Model, r.Json.GetProperty("model").GetString()));
        }
        Assert.Equal([false, true, true, false, true], received.Select(r => r.Json.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True));
    }

    [Theory]
    [InlineData("WorkersAi")]
    [InlineData("OpenAi")]
    public async Task OpenAiClient_StreamCutByUpstream_ThrowsApiErrorAfterPartialText(string kind)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = OfficialClientAssertions.CutAfterOneToken(kind);
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));

        var result = await NodeClientScript.RunAsync("openai-client.mjs", gateway.BaseAddress, "chatStreamCutByUpstream");
        output.WriteLine(result.Describe());

        NodeClientScript.AssertPassed(result);
        var scenario = result.Scenario("chatStreamCutByUpstream");
        Assert.Equal("partial", scenario.GetProperty("text").GetString());
        var error = scenario.GetProperty("error");
        Assert.Contains("APIError", error.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("upstream_error", error.GetProperty("code").GetString());
        Assert.Equal("Upstream 'backend' ended the stream in the middle of an event; the stream was cut.", error.GetProperty("error").GetProperty("message").GetString());
        OfficialClientAssertions.UpstreamSawOnlyGatewayCredentials(upstream.Received.ToList(), "client-key");
    }
}
