using Gateway.FunctionalTests.BadInput;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.FunctionalTests.Faults;

/// <summary>Every stream cut is logged with the upstream's name and the reason, and without content.</summary>
public sealed class StreamCutLogTests
{
    private const string Content = "zebra-cut-content-marker";

    public static TheoryData<string, string, Surface> Rows => new()
    {
        { "Idle", "WorkersAi", Surface.WorkersAiShort },
        { "Idle", "OpenAi", Surface.OpenAiChat },
        { "UpstreamFailed", "OpenAi", Surface.WorkersAiRest },
        { "UpstreamFailed", "WorkersAi", Surface.OpenAiCompletions },
        { "MalformedEvent", "WorkersAi", Surface.OpenAiChat },
        { "EventTooLarge", "OpenAi", Surface.WorkersAiShort },
        { "TruncatedEvent", "WorkersAi", Surface.WorkersAiRest },
        { "NoEvents", "OpenAi", Surface.OpenAiCompletions },
        { "NoEndMarker", "WorkersAi", Surface.WorkersAiShort },
        { "NoEndMarker", "OpenAi", Surface.OpenAiChat },
        { "NotEventStream", "WorkersAi", Surface.OpenAiChat },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task StreamCut_IsLoggedWithUpstreamAndReason_WithoutContent(string reason, string kind, Surface surface)
    {
        var name = $"cut-{reason}-{kind}-{surface}".ToLowerInvariant();
        await using var upstream = await ScriptedUpstream.StartAsync();
        var clientSawFirstEvent = new TaskCompletionSource();
        upstream.Handler = (context, _) => MisbehaveAsync(context, kind, reason, clientSawFirstEvent.Task);
        var config = GatewayServer.RouteAllTo(upstream, kind, name: name);
        config[$"Gateway:Upstreams:{name}:StreamIdleTimeout"] = "00:00:01";
        config["Gateway:MaxStreamEventBytes"] = "1024";
        await using var gateway = await GatewayServer.StartAsync(config);
        using var client = FaultClient.ClientFor(gateway.BaseAddress);

        using var response = await client.SendAsync(FaultClient.Request(surface, stream: true), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync();
        clientSawFirstEvent.SetResult();
        var body = first + "\n" + await reader.ReadToEndAsync();

        Assert.DoesNotContain("[DONE]", body, StringComparison.Ordinal);
        var lines = CapturingLoggerProvider.Instance.Lines.Where(l => l.Contains($"Stream from upstream {name} was cut", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(lines);
        Assert.Contains($"was cut: {reason} ", line, StringComparison.Ordinal);
        // The structured values, in whatever order the logging generator lists them.
        Assert.Contains($"Upstream={name};", line, StringComparison.Ordinal);
        Assert.Contains($"Reason={reason};", line, StringComparison.Ordinal);
        Assert.DoesNotContain(Content, string.Join("\n", CapturingLoggerProvider.Instance.Lines), StringComparison.Ordinal);
    }

    private static async Task MisbehaveAsync(HttpContext context, string kind, string reason, Task clientSawFirstEvent)
    {
        if (reason == "NotEventStream")
        {
            await ScriptedUpstream.WriteJsonAsync(context, 200, new { result = new { response = Content } });
            return;
        }
        context.Response.ContentType = "text/event-stream";
        if (reason == "NoEvents")
        {
            return;
        }
        await ScriptedUpstream.WriteEventAsync(context, StreamEndTests.Delta(kind, Content));
        switch (reason)
        {
            case "Idle":
                await ScriptedUpstream.StallAsync(context);
                break;
            case "UpstreamFailed":
                // Break the connection once the first event has reached the client, so the cut is mid-stream.
                await clientSawFirstEvent.WaitAsync(TimeSpan.FromSeconds(20));
                context.Abort();
                break;
            case "MalformedEvent":
                await ScriptedUpstream.WriteEventAsync(context, "{not json " + Content);
                break;
            case "EventTooLarge":
                await ScriptedUpstream.WriteEventAsync(context, StreamEndTests.Delta(kind, new string('x', 2048)));
                break;
            case "TruncatedEvent":
                await context.Response.WriteAsync("data: {\"response\":\"" + Content);
                break;
            default:
                // NoEndMarker: a clean close between events.
                break;
        }
    }
}
