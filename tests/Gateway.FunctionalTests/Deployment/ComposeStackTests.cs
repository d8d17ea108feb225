using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Gateway.FunctionalTests.Guarding;
using Gateway.FunctionalTests.Infrastructure;

namespace Gateway.FunctionalTests.Deployment;

/// <summary>The compose stack (docker-compose.yml, docker-compose.gpu.yml and their files under deploy/): that its
/// pieces point at each other, and that the gateway on the compose file's own environment, with the scripted demo
/// guard and a real Redis, answers every demo traffic scenario as the scenario expects. <c>docker-compose config</c>
/// and yamllint check the files' syntax in CI (.ci/run).</summary>
public sealed class ComposeStackTests
{
    private static readonly string Root = RandomGuardModelFixture.RepoRoot();

    private static JsonObject Services(string file) => YamlJson.LoadFile(Path.Combine(Root, file))["services"]!.AsObject();

    private static JsonObject EnvironmentOf(JsonNode service) => service["environment"]?.AsObject() ?? [];

    /// <summary>A service's bind mounts as (repository path, container path).</summary>
    private static List<(string Source, string Target)> Mounts(JsonNode service) =>
        [.. (service["volumes"]?.AsArray() ?? []).Select(v => ((string?)v)!.Split(':')).Select(parts => (parts[0], parts[1]))];

    /// <summary>The repository file a container path of <paramref name="service"/> is mounted from.</summary>
    private static string HostPath(JsonNode service, string containerPath)
    {
        var (source, target) = Mounts(service).Single(m => containerPath == m.Target || containerPath.StartsWith(m.Target + "/", StringComparison.Ordinal));
        return Path.GetFullPath(Path.Combine(Root, source, containerPath[target.Length..].TrimStart('/')));
    }

    [Fact]
    public void ComposeFile_HasTheStack_AndEveryMountedFileIsInTheRepository()
    {
        var services = Services("docker-compose.yml");

        Assert.Equal(
            ["demo-guard", "gateway", "grafana", "jaeger", "otel-collector", "prometheus", "redis", "traffic"],
            services.Select(s => s.Key).Order(StringComparer.Ordinal));
        Assert.Equal(".", (string?)services["gateway"]!["build"]);
        foreach (var (name, service) in services)
        {
            foreach (var (source, _) in Mounts(service!))
            {
                var path = Path.Combine(Root, source);
                Assert.True(File.Exists(path) || Directory.Exists(path), $"{name} mounts {source}, which is not in the repository");
            }
            // Authentication is off in the demo: nothing is published beyond this machine.
            foreach (var port in service!["ports"]?.AsArray() ?? [])
            {
                Assert.StartsWith("127.0.0.1:", (string?)port, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void PrometheusScrapesTheGatewaysMetricsPort_AndTracesReachJaegerThroughTheCollector()
    {
        var services = Services("docker-compose.yml");
        var gateway = EnvironmentOf(services["gateway"]!);
        var metricsPort = (string?)gateway["Telemetry__Prometheus__Port"];

        Assert.Equal("true", (string?)gateway["Telemetry__Prometheus__Enabled"]);
        Assert.Contains($"http://0.0.0.0:{metricsPort}", ((string?)gateway["Urls"])!.Split(';'));
        Assert.Contains(metricsPort, services["gateway"]!["expose"]!.AsArray().Select(p => (string?)p));
        Assert.DoesNotContain(services["gateway"]!["ports"]!.AsArray(), p => ((string?)p)!.EndsWith(":" + metricsPort, StringComparison.Ordinal));

        var prometheus = YamlJson.LoadFile(HostPath(services["prometheus"]!, "/etc/prometheus/prometheus.yml"));
        var job = prometheus["scrape_configs"]!.AsArray().Single(j => (string?)j!["job_name"] == "gateway")!;
        Assert.Equal("/metrics", (string?)job["metrics_path"]);
        Assert.Equal($"gateway:{metricsPort}", (string?)Assert.Single(job["static_configs"]![0]!["targets"]!.AsArray()));

        Assert.Equal("http://otel-collector:4317", (string?)gateway["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var collector = YamlJson.LoadFile(HostPath(services["otel-collector"]!, "/etc/otelcol/config.yaml"));
        Assert.Equal("0.0.0.0:4317", (string?)collector["receivers"]!["otlp"]!["protocols"]!["grpc"]!["endpoint"]);
        var traces = collector["service"]!["pipelines"]!["traces"]!;
        var exporter = (string?)Assert.Single(traces["exporters"]!.AsArray());
        Assert.Equal("jaeger:4317", (string?)collector["exporters"]![exporter!]!["endpoint"]);
        Assert.True(services.ContainsKey("jaeger"));
    }

    [Fact]
    public void GrafanaProvisionsBothDataSources_AndThePolicyAuditDashboard()
    {
        var grafana = Services("docker-compose.yml")["grafana"]!;
        var datasources = YamlJson.LoadFile(HostPath(grafana, "/etc/grafana/provisioning/datasources/datasources.yaml"))["datasources"]!.AsArray();
        var providers = YamlJson.LoadFile(HostPath(grafana, "/etc/grafana/provisioning/dashboards/dashboards.yaml"))["providers"]!.AsArray();

        Assert.Equal("http://prometheus:9090", (string?)datasources.Single(d => (string?)d!["type"] == "prometheus")!["url"]);
        Assert.Equal("http://jaeger:16686", (string?)datasources.Single(d => (string?)d!["type"] == "jaeger")!["url"]);
        var dashboards = (string?)Assert.Single(providers)!["options"]!["path"];
        Assert.Equal(Telemetry.GrafanaDashboard.PolicyAuditPath, HostPath(grafana, dashboards + "/policy-audit.json"));
        var home = (string?)EnvironmentOf(grafana)["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"];
        Assert.Equal(Telemetry.GrafanaDashboard.PolicyAuditPath, HostPath(grafana, home!));
    }

    [Fact]
    public void GpuVariant_BuildsTheCudaImage_ReservesAGpu_AndRunsTheLocalEngineOnCuda()
    {
        var gateway = Services("docker-compose.gpu.yml")["gateway"]!;
        var environment = EnvironmentOf(gateway);

        Assert.Equal("cuda", (string?)gateway["build"]!["args"]!["FLAVOR"]);
        Assert.Contains("AS cuda", File.ReadAllText(Path.Combine(Root, "Dockerfile")), StringComparison.Ordinal);
        var device = Assert.Single(gateway["deploy"]!["resources"]!["reservations"]!["devices"]!.AsArray())!;
        Assert.Equal("nvidia", (string?)device["driver"]);
        Assert.Equal(["gpu"], device["capabilities"]!.AsArray().Select(c => (string?)c));
        Assert.Equal("Onnx", (string?)environment["Guard__Engine"]);
        Assert.Equal("Cuda", (string?)environment["Guard__Onnx__Provider"]);
        Assert.Equal("Fail", (string?)environment["Guard__Onnx__CudaFallback"]);
        Assert.StartsWith("/models/", (string?)environment["Guard__Onnx__ModelDirectory"], StringComparison.Ordinal);
        Assert.Contains(Mounts(gateway), m => m.Target == "/models");
    }

    [Fact]
    public async Task GatewayOnTheComposeEnvironment_AnswersEveryDemoScenarioAsExpected()
    {
        var python = ChildProcess.FindOnPath("python3")
            ?? throw new InvalidOperationException("This test runs the compose stack's demo scripts (deploy/demo) with python3, which is not on the PATH.");
        var services = Services("docker-compose.yml");
        var guardPort = FreePort();
        await using var guard = ChildProcess.Start(python, [Path.Combine(Root, "deploy", "demo", "guard.py")],
            new Dictionary<string, string> { ["DEMO_GUARD_PORT"] = guardPort.ToString(CultureInfo.InvariantCulture) });
        await using var redis = await RedisServer.StartAsync();
        await WaitForHealthAsync(guard, new Uri($"http://127.0.0.1:{guardPort}/health"));

        // The compose file's environment, as the gateway container gets it, with what differs outside the containers:
        // the addresses of the other services, the ports, and the paths mounted into the container.
        var gatewayService = services["gateway"]!;
        var environment = EnvironmentOf(gatewayService).ToDictionary(e => e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
        Assert.Equal("http://0.0.0.0:8080;http://0.0.0.0:9464", environment["Urls"]);
        Assert.Equal("http://demo-guard:8000/", environment["Guard__Remote__BaseAddress"]);
        Assert.Equal("redis:6379", environment["Cache__Redis"]);
        Assert.Equal("/app/tokenizers/llama3", environment["Guard__TokenizerPath"]);
        var metricsPort = FreePort();
        environment["Urls"] = $"http://127.0.0.1:{FreePort()};http://127.0.0.1:{metricsPort}";
        environment["Telemetry__Prometheus__Port"] = metricsPort.ToString(CultureInfo.InvariantCulture);
        environment["Guard__Remote__BaseAddress"] = $"http://127.0.0.1:{guardPort}/";
        environment["Cache__Redis"] = redis.Configuration;
        environment["Guard__TokenizerPath"] = BootstrapTokenizers.Directory("llama3");
        environment["Policies__Files__0"] = HostPath(gatewayService, environment["Policies__Files__0"]);
        // No collector here: the exporter is set up as in the stack and fails to send, which never touches requests.
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{FreePort()}";
        foreach (var (key, value) in GatewayProcess.Environment(BootstrapTokenizers.Configured(new Dictionary<string, string?>())))
        {
            environment[key] = value;
        }
        await using var gateway = await GatewayProcess.StartAsync(environment);

        var traffic = services["traffic"]!;
        await using var run = ChildProcess.Start(python, [HostPath(traffic, "/demo/traffic.py")], new Dictionary<string, string>
        {
            ["GATEWAY_URL"] = gateway.BaseAddress.ToString().TrimEnd('/'),
            ["TRAFFIC_EACH"] = "1",
        });
        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(120)), $"traffic.py did not finish:\n{run.Output}");
        Assert.True(run.ExitCode == 0, $"traffic.py exited with {run.ExitCode}:\n{run.Output}\nguard:\n{guard.Output}");

        // Every decision outcome of the demo shows on the metrics port Prometheus scrapes.
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}/") };
        var text = string.Empty;
        string[] outcomes = ["allowed", "flagged", "blocked", "fail-open", "fail-closed"];
        bool Decided(string outcome) => text.Split('\n').Any(line =>
            line.StartsWith("gateway_moderation_decisions_total{", StringComparison.Ordinal) && line.Contains($"outcome=\"{outcome}\"", StringComparison.Ordinal));
        for (var i = 0; i < 50 && !outcomes.All(Decided); i++)
        {
            // The exporter caches a scrape briefly; a later one has every decision.
            await Task.Delay(i == 0 ? 0 : 100);
            text = await metrics.GetStringAsync("metrics");
        }
        Assert.All(outcomes, o => Assert.True(Decided(o), $"No {o} decision on the metrics port:\n{text}"));
    }

    private static async Task WaitForHealthAsync(ChildProcess process, Uri health)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        for (var i = 0; i < 100; i++)
        {
            if (process.HasExited)
            {
                break;
            }
            try
            {
                using var response = await client.GetAsync(health);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"{health} did not answer:\n{process.Output}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
