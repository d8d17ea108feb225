using System.Net;
using Gateway.FunctionalTests.Infrastructure;

namespace Gateway.FunctionalTests.Telemetry;

[Collection(TelemetryExportGroup.Name)]
public sealed class OtlpExportTests
{
    private const string Model = "@cf/meta/llama-2-7b-chat-fp16";

    [Fact]
    public async Task OtlpEndpoint_ExportsTracesMetricsAndLogs_ToTheCollector()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var collector = await OtlpReceiver.StartAsync();
        var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
        config["Telemetry:OtlpEndpoint"] = collector.BaseAddress.ToString();
        config["Telemetry:OtlpProtocol"] = "HttpProtobuf";
        config["Telemetry:ServiceName"] = "otlp-export-test-gateway";

        await using (var gateway = await GatewayServer.StartAsync(config))
        {
            using var ok = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Model}", """{"prompt":"hi"}"""));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // Stopping the host flushes the batch processors and the periodic metric reader.
        var span = Assert.Single(collector.Spans(), s => s.Scope == "Gateway" && s.Name == $"text_completion {Model}");
        Assert.Equal("text_completion", span.Attributes.Text("gen_ai.operation.name"));
        Assert.Equal("openai", span.Attributes.Text("gen_ai.provider.name"));
        Assert.Equal(Model, span.Attributes.Text("gen_ai.request.model"));
        var traces = collector.Exports.First(e => e.Path == "/v1/traces");
        Assert.True(traces.Body.AsSpan().IndexOf("otlp-export-test-gateway"u8) >= 0, "the service name is the resource's");
        Assert.Contains(collector.Points(), p => p.Metric == "gateway.requests");
        Assert.Contains(collector.Logs(), l => l.Scope.StartsWith("Gateway.", StringComparison.Ordinal));
    }
}
