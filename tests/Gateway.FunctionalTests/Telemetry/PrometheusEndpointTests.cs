using System.Net;
using System.Net.Sockets;
using Gateway.FunctionalTests.Infrastructure;

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
