using System.Net;
using System.Text.Json;
using Gateway.FunctionalTests.BadInput;
using Gateway.FunctionalTests.Infrastructure;

namespace Gateway.FunctionalTests.Faults;

/// <summary><c>StreamIdleTimeout</c> measures silence, not the time an event takes: bytes arriving reset it.</summary>
public sealed class StreamIdleTests
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(200);

    [Theory]
    [MemberData(nameof(FaultClient.EachSurface), MemberType = typeof(FaultClient))]
    public async Task SlowButSteadyStream_WhoseEventsTakeLongerThanTheIdleTime_IsNotCut(string kind, Surface surface)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            string[] events = [StreamEndTests.Delta(kind, "Slow"), StreamEndTests.Delta(kind, " steady", kind == "OpenAi" ? "stop" : null), "[DONE]"];
            foreach (var data in events)
            {
                // Each event arrives in 9 pieces 200 ms apart: about 1.6 s per event against a 1.5 s idle limit, but
                // never more than 200 ms of silence.
                var text = $"data: {data}\n\n";
                await ScriptedUpstream.DripAsync(context, text, (text.Length + 8) / 9, Pause);
                await Task.Delay(Pause, context.RequestAborted);
            }
        };
        var config = GatewayServer.RouteAllTo(upstream, kind);
        config["Gateway:Upstreams:backend:StreamIdleTimeout"] = "00:00:01.5";
        await using var gateway = await GatewayServer.StartAsync(config);

        using var response = await gateway.Client.SendAsync(FaultClient.Request(surface, stream: true));
        var events = ProxyRoundTripTests.ParseSse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[DONE]", events[^1]);
        Assert.DoesNotContain(events, e => e.Contains("sent nothing", StringComparison.Ordinal));
        var text = string.Concat(events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement).Select(TextOf));
        Assert.Equal("Slow steady", text);
    }

    [Theory]
    [MemberData(nameof(FaultClient.EachSurface), MemberType = typeof(FaultClient))]
    public async Task SilenceLongerThanTheIdleTime_AfterAnEvent_IsCut(string kind, Surface surface)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            await ScriptedUpstream.WriteEventAsync(context, StreamEndTests.Delta(kind, "partial"));
            // Half an event, then silence.
            await ScriptedUpstream.DripAsync(context, "data: {\"resp", 4, Pause);
            await ScriptedUpstream.StallAsync(context);
        };
        var config = GatewayServer.RouteAllTo(upstream, kind);
        config["Gateway:Upstreams:backend:StreamIdleTimeout"] = "00:00:01";
        await using var gateway = await GatewayServer.StartAsync(config);
        using var client = FaultClient.ClientFor(gateway.BaseAddress);

        using var response = await client.SendAsync(FaultClient.Request(surface, stream: true));
        var events = ProxyRoundTripTests.ParseSse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("[DONE]", events);
        var (code, message) = FaultClient.ReadError(surface, JsonDocument.Parse(events[^1]).RootElement);
        Assert.Equal(FaultClient.IsWorkersAi(surface) ? "3007" : "upstream_timeout", code);
        Assert.Contains("sent nothing for 1 s", message, StringComparison.Ordinal);
    }

    private static string TextOf(JsonElement chunk)
    {
        if (chunk.TryGetProperty("response", out var response))
        {
            return response.GetString() ?? "";
        }
        if (chunk.GetProperty("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0)
        {
            var choice = choices[0];
            if (choice.TryGetProperty("delta", out var delta))
            {
                return delta.TryGetProperty("content", out var c) ? c.GetString() ?? "" : "";
            }
            return choice.TryGetProperty("text", out var t) ? t.GetString() ?? "" : "";
        }
        return "";
    }
}
