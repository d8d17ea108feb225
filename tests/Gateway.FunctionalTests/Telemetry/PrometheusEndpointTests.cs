using System.Net;
using System.Net.Sockets;
using Gateway.FunctionalTests.Infrastructure;
using Gateway.Guarding;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.FunctionalTests.Telemetry;

public sealed class PrometheusEndpointTests
{
    private const string Model = "@cf/meta/llama-2-7b-chat-fp16";

    [Fact]
    public async Task Enabled_ServesTheGatewaysMetrics_InThePrometheusTextFormat()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
        config["Telemetry:Prometheus:Enabled"] = "true";
        await using var gateway = await GatewayServer.StartAsync(config);

        using var ok = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Model}", """{"prompt":"hi"}"""));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var text = await ScrapeUntilAsync(gateway.Client, "/metrics", "gateway_requests_total");

        Assert.Contains("# TYPE gateway_requests_total counter", text, StringComparison.Ordinal);
        Assert.Contains("model=\"" + Model + "\"", text, StringComparison.Ordinal);
        Assert.Contains("gateway_request_duration_seconds_bucket", text, StringComparison.Ordinal);
        Assert.Contains("http_server_request_duration_seconds", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ModerationInstruments_AreScraped_UnderTheirPrometheusNames()
    {
        var directory = Directory.CreateTempSubdirectory("gateway-prometheus-").FullName;
        try
        {
            var file = Path.Combine(directory, "policies.yaml");
            await File.WriteAllTextAsync(file, """
                policies:
                  - name: strict
                    prompt: { defaultAction: block, failMode: closed, timeout: 20s }
                    response:
                      defaultAction: block
                      failMode: closed
                      timeout: 20s
                      streaming: { mode: windowed, window: 10, minWindow: 5, holdBack: 0 }
                """);
            // The prompt check blocks the marker; the streamed answer passes, window by window.
            var engine = new ScriptedGuardEngine().Answer("PROMETHEUS-UNSAFE-PROMPT", "unsafe\nO3");
            await using var upstream = await ScriptedUpstream.StartAsync();
            var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
            config["Telemetry:Prometheus:Enabled"] = "true";
            config["Policies:Files:0"] = file;
            config["Policies:Watch"] = "false";
            await using var gateway = await GatewayServer.StartAsync(config, services => services.AddSingleton(new GuardEngineProvider(engine)));

            using var blocked = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Model}", """{"prompt":"PROMETHEUS-UNSAFE-PROMPT"}"""));
            using var stream = await gateway.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Model}", """{"prompt":"tell me","stream":true}"""));
            await stream.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.BadRequest, blocked.StatusCode);
            var text = await ScrapeUntilAsync(gateway.Client, "/metrics", "gateway_stream_hold_duration_seconds_count");

            Assert.Contains("# TYPE gateway_moderation_blocks_total counter", text, StringComparison.Ordinal);
            Assert.Contains("gateway_moderation_blocks_total{otel_scope_name=\"Gateway\",category=\"O3\",policy=\"strict\",role=\"prompt\"", text, StringComparison.Ordinal);
            Assert.Contains("gateway_moderation_decisions_total{", text, StringComparison.Ordinal);
            Assert.Contains("# TYPE gateway_guard_duration_seconds histogram", text, StringComparison.Ordinal);
            Assert.Contains("gateway_guard_duration_seconds_bucket{otel_scope_name=\"Gateway\",cache=\"miss\",engine=\"scripted\",outcome=\"blocked\",role=\"prompt\"", text, StringComparison.Ordinal);
            Assert.Contains("gateway_cache_verdicts_total{otel_scope_name=\"Gateway\",result=\"miss\"}", text, StringComparison.Ordinal);
            Assert.Contains($"gateway_stream_time_to_first_byte_seconds_count{{otel_scope_name=\"Gateway\",api=\"WorkersAiShort\",mode=\"windowed\",model=\"{Model}\"", text, StringComparison.Ordinal);
            Assert.Contains("gateway_stream_hold_duration_seconds_count{otel_scope_name=\"Gateway\",mode=\"windowed\"", text, StringComparison.Ordinal);
            Assert.Contains($"gateway_requests_total{{otel_scope_name=\"Gateway\",api=\"WorkersAiShort\",http_response_status_code=\"400\",model=\"{Model}\",outcome=\"blocked\"", text, StringComparison.Ordinal);
            Assert.Contains("gateway_request_duration_seconds_bucket{", text, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Disabled_ByDefault_MetricsIsNotAnEndpoint()
    {
        await using var gateway = await GatewayServer.StartAsync();

        using var response = await gateway.Client.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task OwnPort_AnswersThere_AndNotOnThePublicPort()
    {
        var metricsPort = FreePort();
        var config = new Dictionary<string, string?>
        {
            ["Telemetry:Prometheus:Enabled"] = "true",
            ["Telemetry:Prometheus:Port"] = metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        await using var gateway = await GatewayServer.StartAsync(config, urls: $"http://127.0.0.1:0;http://127.0.0.1:{metricsPort}");
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}/") };

        using var onPublic = await gateway.Client.GetAsync("/metrics");
        var text = await ScrapeUntilAsync(metrics, "/metrics", "# TYPE");

        Assert.NotEqual(metricsPort, gateway.BaseAddress.Port);
        Assert.Equal(HttpStatusCode.NotFound, onPublic.StatusCode);
        Assert.Contains("target_info", text, StringComparison.Ordinal);
    }

    // Metric points are collected on scrape; a request's measurement is there from the first scrape after it, but the
    // exporter caches a scrape briefly, so a scrape taken before the request may be served again.
    private static async Task<string> ScrapeUntilAsync(HttpClient client, string path, string expected)
    {
        var text = string.Empty;
        for (var i = 0; i < 50 && !text.Contains(expected, StringComparison.Ordinal); i++)
        {
            if (i > 0)
            {
                await Task.Delay(100);
            }
            using var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType, StringComparison.Ordinal);
            text = await response.Content.ReadAsStringAsync();
        }
        Assert.Contains(expected, text, StringComparison.Ordinal);
        return text;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
