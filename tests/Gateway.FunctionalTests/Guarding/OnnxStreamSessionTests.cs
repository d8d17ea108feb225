using System.Net;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Gateway.Guarding;
using Guard.Onnx.Engine;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.FunctionalTests.Guarding;

/// <summary>A stream judged by the local ONNX engine opens one stream session: its windows continue one KV cache and run
/// fewer guard tokens than plain calls would, and the session is released when the stream ends, however it ends. The
/// policy never blocks (threshold 1, fail open), so every window is checked whatever the random weights answer.</summary>
public sealed class OnnxStreamSessionTests(RandomGuardModelFixture model) : IClassFixture<RandomGuardModelFixture>, IDisposable
{
    private const string PolicyFile = """
        policies:
          - name: streamed
            prompt: { check: false }
            response:
              threshold: 1.0
              belowThreshold: allow
              failMode: open
              timeout: 20s
              streaming: { window: 24, minWindow: 8, holdBack: 6 }
        """;

    private static readonly string[] Words = [.. Enumerable.Range(0, 48).Select(i => (i % 8) switch
    {
        0 => "Knead",
        1 => " the",
        2 => " dough",
        3 => " for",
        4 => $" {i}",
        5 => " minutes",
        6 => ", then",
        _ => " rest it.",
    })];

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-onnx-stream-session-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("completed")]
    [InlineData("upstream-cut")]
    [InlineData("client-gone")]
    public async Task AStreamOpensOneSession_ItsWindowsContinueIt_AndItIsReleasedAtTheEnd(string ending)
    {
        var file = Path.Combine(_directory, "policies.yaml");
        await File.WriteAllTextAsync(file, PolicyFile);
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = (context, _) => StreamAsync(context, ending);
        var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
        config["Guard:Engine"] = "Onnx";
        config["Guard:Onnx:ModelDirectory"] = model.Directory;
        config["Guard:Onnx:MaxConcurrency"] = "2";
        // Every window starts its check as it closes (none coalesce), so the number of windows follows from the text.
        config["Gateway:MaxStreamChecksInFlight"] = "64";
        config["Policies:Files:0"] = file;
        config["Policies:Watch"] = "false";
        await using var gateway = await GatewayServer.StartAsync(config);
        var engine = Assert.IsType<OnnxGuardEngine>(gateway.Services.GetRequiredService<GuardEngineProvider>().Engine);

        var request = ProxyRoundTripTests.Post("v1/chat/completions",
            """{"model":"@cf/meta/llama-3.1-8b-instruct-awq","messages":[{"role":"user","content":"How long do I knead?"}],"stream":true}""");
        using (var response = await gateway.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
        {
            // A cut before any text was released is an error response (ADR 005); otherwise an error event ends the stream.
            Assert.Equal(ending == "upstream-cut" ? response.StatusCode : HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            if (ending == "client-gone")
            {
                // Leave as soon as text was released (a window passed), while the upstream still holds the stream open.
                while (await reader.ReadLineAsync() is { } line && !line.Contains("Knead", StringComparison.Ordinal))
                {
                }
            }
            else
            {
                var raw = await reader.ReadToEndAsync();
                Assert.Contains(ending == "completed" ? "rest it." : "error", raw, StringComparison.Ordinal);
            }
        }

        // The session is released by the gateway once the stream's request ends, which may be just after the client
        // read its last byte.
        for (var i = 0; i < 500 && engine.Statistics.StreamSessionsOpen > 0; i++)
        {
            await Task.Delay(20);
        }

        var stats = engine.Statistics;
        Assert.Equal(1, stats.StreamSessionsOpened);
        Assert.Equal(0, stats.StreamSessionsOpen);
        Assert.Equal(0, stats.StreamCachesHeld);
        Assert.True(stats.StreamWindows >= 1);
        // Every guard call of the request was a window of the stream's session, and each continued the one before.
        Assert.Equal(stats.Calls, stats.StreamWindows);
        Assert.Equal(stats.StreamWindows - 1, stats.StreamWindowsContinued);
        if (ending == "completed")
        {
            Assert.True(stats.StreamWindows >= 8, $"{stats.StreamWindows} windows");
            // Plain calls would have run the ids the windows took from the session as well.
            Assert.True(stats.StreamTokensReused > stats.TokensRun / 2,
                $"{stats.TokensRun} guard tokens run; plain calls would have run {stats.TokensRun + stats.StreamTokensReused}");
        }
    }

    private static async Task StreamAsync(HttpContext context, string ending)
    {
        context.Response.ContentType = "text/event-stream";
        for (var i = 0; i < Words.Length; i++)
        {
            await ScriptedUpstream.WriteEventAsync(context, Chunk(i == 0 ? new { role = "assistant", content = Words[i] } : new { content = Words[i] }, null));
        }
        switch (ending)
        {
            case "completed":
                await ScriptedUpstream.WriteEventAsync(context, Chunk(new { }, "stop"));
                await ScriptedUpstream.WriteEventAsync(context, "[DONE]");
                break;
            case "upstream-cut":
                // The upstream ends without its end marker: a cut (ADR 005).
                break;
            default:
                await ScriptedUpstream.StallAsync(context);
                break;
        }
    }

    private static string Chunk(object delta, string? finish) => JsonSerializer.Serialize(new
    {
        id = "chatcmpl-s",
        @object = "chat.completion.chunk",
        created = 1,
        model = "m",
        choices = new[] { new { index = 0, delta, finish_reason = finish } },
    });
}
