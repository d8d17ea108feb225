using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.FunctionalTests.OfficialClients;

/// <summary>The official <c>cloudflare</c> npm client's <c>ai.run</c> against the gateway's Workers AI REST surface, to
/// both upstream kinds, over real sockets (js/cloudflare-client.mjs does the calls and its own checks; these assert its
/// report again). The SDK cannot parse a streamed ai.run, so the script streams through its raw Response.</summary>
public sealed class CloudflareNpmClientTests(ITestOutputHelper output)
{
    private const string Model = "@cf/meta/llama-2-7b-chat-fp16";
    private const string Text = "Scripted upstream says hello.";

    [Theory]
    [InlineData("WorkersAi")]
    [InlineData("OpenAi")]
    public async Task CloudflareClient_RunsStreamsAndThrowsTypedErrors(string kind)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));

        var result = await NodeClientScript.RunAsync("cloudflare-client.mjs", gateway.BaseAddress);
        output.WriteLine(result.Describe());

        NodeClientScript.AssertPassed(result);
        foreach (var scenario in new[] { "promptNonStream", "messagesNonStream" })
        {
            // The SDK unwraps the envelope's result: {response, usage}.
            Assert.Equal(Text, result.Scenario(scenario).GetProperty("response").GetString());
            Assert.Equal(12, result.Scenario(scenario).GetProperty("usage").GetProperty("total_tokens").GetInt32());
        }
        foreach (var scenario in new[] { "promptStream", "messagesStream" })
        {
            Assert.Equal(Text, result.Scenario(scenario).GetProperty("text").GetString());
            Assert.Equal(12, result.Scenario(scenario).GetProperty("usage").GetProperty("total_tokens").GetInt32());
            Assert.StartsWith("text/event-stream", result.Scenario(scenario).GetProperty("contentType").GetString(), StringComparison.Ordinal);
        }
        Assert.Equal("undefined", result.Scenario("streamAwaitedDirectly").GetProperty("type").GetString());

        var badRequest = result.Scenario("invalidParameterIsBadRequest");
        Assert.Contains("BadRequestError", badRequest.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(400, badRequest.GetProperty("status").GetInt32());
        var error = Assert.Single(badRequest.GetProperty("errors").EnumerateArray());
        Assert.Equal(5006, error.GetProperty("code").GetInt32());
        Assert.Equal("'temperature' must be between 0 and 5, got 9 (at 'temperature')", error.GetProperty("message").GetString());
        var unknownModel = result.Scenario("unknownModelIsBadRequest");
        Assert.Equal(5007, unknownModel.GetProperty("errors")[0].GetProperty("code").GetInt32());

        // Five generations reached the upstream (rejected requests never do), each with the gateway's token.
        var received = upstream.Received.ToList();
        Assert.Equal(5, received.Count);
        OfficialClientAssertions.UpstreamSawOnlyGatewayCredentials(received, "client-token");
        if (kind == "WorkersAi")
        {
            // The SDK sends the model percent-encoded (@cf%2Fmeta%2F...); the gateway forwards it to its own account.
            Assert.All(received, r => Assert.Equal($"/client/v4/accounts/gateway-account/ai/run/{Model}", r.Path));
        }
        else
        {
            Assert.All(received, r => Assert.Equal("/v1/chat/completions", r.Path));
            Assert.All(received, r => Assert.Equal(Model, r.Json.GetProperty("model").GetString()));
        }
        Assert.Equal([false, false, true, true, true], received.Select(r => r.Json.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True));
    }

    [Theory]
    [InlineData("WorkersAi")]
    [InlineData("OpenAi")]
    public async Task CloudflareClient_StreamCutByUpstream_EndsWithErrorEnvelopeAndNoDone(string kind)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = OfficialClientAssertions.CutAfterOneToken(kind);
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));

        var result = await NodeClientScript.RunAsync("cloudflare-client.mjs", gateway.BaseAddress, "promptStreamCutByUpstream");
        output.WriteLine(result.Describe());

        NodeClientScript.AssertPassed(result);
        var events = result.Scenario("promptStreamCutByUpstream").GetProperty("events").EnumerateArray().ToList();
        Assert.Equal("partial", events[0].GetProperty("response").GetString());
        Assert.False(events[^1].GetProperty("success").GetBoolean());
        Assert.Equal(9001, events[^1].GetProperty("errors")[0].GetProperty("code").GetInt32());
        OfficialClientAssertions.UpstreamSawOnlyGatewayCredentials(upstream.Received.ToList(), "client-token");
    }
}
