using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.FunctionalTests.Telemetry;

public sealed class MetricsAndContentLoggingTests
{
    private const string Model = "@cf/meta/llama-2-7b-chat-fp16";

    [Fact]
    public async Task RequestsAreCounted_ByApiModelAndStatus_OnTheGatewaysOwnMeter()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, "OpenAi"));
        var factory = gateway.Services.GetRequiredService<IMeterFactory>();
        var counts = new ConcurrentBag<(string Api, string Model, int Status, long Value)>();
        var durations = new ConcurrentBag<double>();
        using var listener = new MeterListener();
        // Only this gateway's meter: other tests run gateways in the same process.
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Gateway" && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var t = tags.ToArray().ToDictionary(x => x.Key, x => x.Value);
            counts.Add(((string)t["api"]!, (string)t["model"]!, (int)t["http.response.status_code"]!, value));
        });
        listener.SetMeasurementEventCallback<double>((_, value, _, _) => durations.Add(value));
        listener.Start();

        using var ok = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Model}", """{"prompt":"hi"}"""));
        using var bad = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Model}", """{"prompt":"hi","top_k":0}"""));
        using var unknown = await gateway.Client.SendAsync(ProxyRoundTripTests.Post("v1/chat/completions", """{"model":"nope","messages":[{"role":"user","content":"x"}]}"""));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains(("WorkersAiShort", Model, 200, 1L), counts);
        Assert.Contains(("WorkersAiShort", "unknown", 400, 1L), counts);
        Assert.Contains(("OpenAiChat", "unknown", 404, 1L), counts);
        Assert.Equal(3, counts.Count);
        Assert.Equal(3, durations.Count);
        Assert.All(durations, d => Assert.True(d > 0));
    }

    [Fact]
    public async Task LogContent_On_LogsThePrompt()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
        config["Gateway:LogContent"] = "true";
        await using var gateway = await GatewayServer.StartAsync(config);
        const string marker = "walrus-content-logging-marker";

        using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Model}",
            $$"""{"messages":[{"role":"user","content":"{{marker}}"}]}"""));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains(CapturingLoggerProvider.Instance.Lines, line => line.Contains("user: " + marker, StringComparison.Ordinal));
    }
}
