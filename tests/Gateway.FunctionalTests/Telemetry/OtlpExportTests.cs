using System.Net;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.FunctionalTests.Telemetry;

public sealed class OtlpExportTests
{
    private const string Model = "@cf/meta/llama-2-7b-chat-fp16";

    [Fact]
    public async Task OtlpEndpoint_ExportsTracesAndMetrics_ToTheCollector()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        // A loopback OTLP/HTTP receiver: it records what arrives and answers 200 with an empty body.
        await using var collector = await ScriptedUpstream.StartAsync();
        collector.Handler = (context, _) =>
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/x-protobuf";
            return Task.CompletedTask;
        };
        var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
        config["Telemetry:OtlpEndpoint"] = collector.BaseAddress.ToString().TrimEnd('/');
        config["Telemetry:OtlpProtocol"] = "HttpProtobuf";
        config["Telemetry:ServiceName"] = "otlp-export-test-gateway";

        await using (var gateway = await GatewayServer.StartAsync(config))
        {
            using var ok = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Model}", """{"prompt":"hi"}"""));
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // Stopping the host flushes the batch processors and the periodic metric reader.
        var received = collector.Received.ToArray();
        var traces = Assert.Single(received, r => r.Path == "/v1/traces" && r.Body.Contains("generation", StringComparison.Ordinal));
        Assert.Equal("POST", traces.Method);
        Assert.Contains("otlp-export-test-gateway", traces.Body, StringComparison.Ordinal);
        Assert.Contains(received, r => r.Path == "/v1/metrics" && r.Body.Contains("gateway.requests", StringComparison.Ordinal));
    }
}
