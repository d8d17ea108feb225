using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using static Gateway.FunctionalTests.Deployment.PodSpecs;

namespace Gateway.FunctionalTests.Deployment;

/// <summary>What the Helm chart renders with its defaults and each example values file: the gateway container, its
/// port and probes, the policy ConfigMap where Policies:Files points, secrets only by reference, sidecar mode, GPUs,
/// the HPA, Redis, the guard server and metrics scraping.</summary>
public sealed partial class HelmChartTests
{
    private const string Name = HelmChart.FullName;

    [Fact]
    public async Task Default_StandaloneGateway_ListensOnItsPort_BehindTheService_WithProbesOnTheHealthEndpoints()
    {
        var chart = await HelmChart.TemplateAsync();

        var deployment = chart.Get("Deployment", Name);
        Assert.Equal("2", Text(deployment.Body["spec"]!["replicas"]));
        var pod = deployment.PodSpec;
        var gateway = Container(pod, "gateway");
        Assert.Single(pod["containers"]!.AsArray());
        Assert.Equal("8080", Port(gateway, "gw-http"));
        Assert.Equal("http://0.0.0.0:8080;http://0.0.0.0:9464", Text(Env(gateway, "Urls")!["value"]));
        AssertProbes(gateway);

        var service = chart.Get("Service", Name);
        var http = Items(service.Body["spec"]!["ports"]).Single(p => Text(p["name"]) == "http");
        Assert.Equal("gw-http", Text(http["targetPort"]));
        Assert.Equal(Text(deployment.Body["spec"]!["selector"]!["matchLabels"]!["app.kubernetes.io/component"]),
            Text(service.Body["spec"]!["selector"]!["app.kubernetes.io/component"]));

        // Nothing optional is switched on by default.
        Assert.Empty(chart.OfKind("HorizontalPodAutoscaler"));
        Assert.Empty(chart.OfKind("ServiceMonitor"));
        Assert.Empty(chart.OfKind("Secret"));
        Assert.False(chart.Has("Deployment", Name + "-redis"));
        Assert.False(chart.Has("Deployment", Name + "-guard"));
        Assert.Equal("None", Text(chart.AppSettings["Guard"]!["Engine"]));
    }

    [Theory]
    [MemberData(nameof(ValuesFiles))]
    public async Task EveryValuesFile_MountsThePolicyConfigMap_AsTheDirectoryPoliciesFilesPointInto(string valuesFile)
    {
        var chart = await HelmChart.TemplateAsync("-f", Path.Combine(HelmChart.ChartDirectory, valuesFile));
        var (pod, gateway) = GatewayPod(chart);
        var settings = chart.AppSettings;

        // The configuration file: --config names it inside the mounted configuration ConfigMap.
        var args = gateway["args"]!.AsArray().Select(Text).ToList();
        var configFile = args[args.IndexOf("--config") + 1];
        var configMount = Mount(gateway, "gateway-config");
        Assert.Equal(Text(configMount["mountPath"]), Path.GetDirectoryName(configFile));
        Assert.Equal(Name, Text(Volume(pod, "gateway-config")["configMap"]!["name"]));
        Assert.NotNull(chart.Get("ConfigMap", Name).Body["data"]![Path.GetFileName(configFile)]);

        // Policies:Files: every file is a key of the policies ConfigMap, in the directory it is mounted as (a whole
        // directory, never a subPath, so the kubelet's updates reach the gateway's watcher).
        var files = settings["Policies"]!["Files"]!.AsArray().Select(Text).ToList();
        Assert.NotEmpty(files);
        var mount = Mount(gateway, "gateway-policies");
        Assert.Null(mount["subPath"]);
        Assert.Equal("true", Text(mount["readOnly"]));
        var policies = chart.Get("ConfigMap", Text(Volume(pod, "gateway-policies")["configMap"]!["name"]));
        foreach (var file in files)
        {
            Assert.Equal(Text(mount["mountPath"]), Path.GetDirectoryName(file));
            var text = Text(policies.Body["data"]![Path.GetFileName(file)]);
            Assert.Contains("policies:", text, StringComparison.Ordinal);
        }
        Assert.Equal("true", settings["Policies"]!["Watch"]!.ToJsonString());
        // Policy edits reload in place: they are not part of the checksum that rolls the pods.
        Assert.DoesNotContain(PodAnnotations(chart).Select(a => a.Key), k => k.Contains("polic", StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [MemberData(nameof(ValuesFiles))]
    public async Task EveryValuesFile_ReferencesSecrets_NeverInlinesThem(string valuesFile)
    {
        var chart = await HelmChart.TemplateAsync("-f", Path.Combine(HelmChart.ChartDirectory, valuesFile));
        var (_, gateway) = GatewayPod(chart);

        foreach (var env in Items(gateway["env"]))
        {
            var name = Text(env["name"]);
            if (SecretName().IsMatch(name))
            {
                Assert.Null(env["value"]);
                var reference = env["valueFrom"]!["secretKeyRef"];
                Assert.True(reference is not null, $"{name} must come from a secretKeyRef: {env.ToJsonString()}");
                Assert.False(string.IsNullOrEmpty(Text(reference["name"])) || string.IsNullOrEmpty(Text(reference["key"])), env.ToJsonString());
            }
        }
        // The configuration file holds no token, key hash or password, and the examples create no Secret of their own.
        var settings = chart.AppSettings.ToJsonString();
        Assert.DoesNotMatch(SecretName(), settings);
        Assert.DoesNotContain("password", settings, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(chart.OfKind("Secret"));
    }

    [Fact]
    public async Task Sidecar_TheGatewayContainerJoinsTheAppsPod_WithItsPort_AndOnlyTheAppIsExposed()
    {
        var chart = await HelmChart.TemplateAsync("-f", HelmChart.Example("values-sidecar.yaml"));

        var deployment = chart.Get("Deployment", Name);
        var pod = deployment.PodSpec;
        Assert.Equal(new[] { "app", "gateway" }, pod["containers"]!.AsArray().Select(c => Text(c!["name"])));
        var app = Container(pod, "app");
        var gateway = Container(pod, "gateway");
        var port = Port(gateway, "gw-http");
        Assert.Equal("8080", port);
        Assert.Equal($"http://127.0.0.1:{port}/v1", Text(Env(app, "OPENAI_BASE_URL")!["value"]));
        AssertProbes(gateway);
        Assert.Equal("app", Text(deployment.Body["spec"]!["selector"]!["matchLabels"]!["app.kubernetes.io/component"]));
        // The app's pod keeps its own security context; the gateway container carries its user itself.
        Assert.Null(pod["securityContext"]);
        Assert.Equal("1654", Text(gateway["securityContext"]!["runAsUser"]));

        // The Service targets the app's port and the metrics port, never the gateway's.
        var targets = Items(chart.Get("Service", Name).Body["spec"]!["ports"]).Select(p => Text(p["targetPort"])).ToList();
        Assert.Equal(new[] { "app-http", "gw-metrics" }, targets);
        // Other pods may reach the same ports only.
        var allowed = Items(chart.Get("NetworkPolicy", Name).Body["spec"]!["ingress"]![0]!["ports"]).Select(p => Text(p["port"]));
        Assert.Equal(new[] { "app-http", "gw-metrics" }, allowed);

        // Upstream tokens from the Secret; the Workers AI guard's settings in the configuration.
        Assert.Equal("cloudflare", Text(Env(gateway, "Gateway__Upstreams__cf__ApiToken")!["valueFrom"]!["secretKeyRef"]!["name"]));
        Assert.Equal("api-token", Text(Env(gateway, "Guard__Remote__ApiToken")!["valueFrom"]!["secretKeyRef"]!["key"]));
        Assert.Equal("WorkersAi", Text(chart.AppSettings["Guard"]!["Engine"]));
    }

    [Fact]
    public async Task Sidecar_ForAnExistingApp_RendersAPatch_ThatAddsTheSameGatewayContainerAndVolumes()
    {
        // Sidecar mode without app containers: the shared objects and the patch, no Deployment or Service.
        var existing = await HelmChart.TemplateAsync("-f", HelmChart.Example("values-sidecar.yaml"), "--set", "sidecar.app.containers=null");
        Assert.Empty(existing.OfKind("Deployment"));
        Assert.Empty(existing.OfKind("Service"));
        var patchText = Text(existing.Get("ConfigMap", Name + "-sidecar").Body["data"]!["patch.yaml"]);
        var patch = HelmChart.Parse("kind: Patch\nmetadata: {name: patch}\n" + patchText).All.Single().Body;
        var patchPod = patch["spec"]!["template"]!["spec"]!.AsObject();

        // The same container and volumes the chart puts into an app's pod itself.
        var withApp = await HelmChart.TemplateAsync("-f", HelmChart.Example("values-sidecar.yaml"));
        var pod = withApp.Get("Deployment", Name).PodSpec;
        Assert.True(JsonNode.DeepEquals(Container(pod, "gateway"), Container(patchPod, "gateway")),
            $"The patch's container differs from the chart's:\n{Container(patchPod, "gateway").ToJsonString()}");
        foreach (var volume in Items(patchPod["volumes"]))
        {
            Assert.True(JsonNode.DeepEquals(Volume(pod, Text(volume["name"])), volume), volume.ToJsonString());
            if (volume["configMap"] is { } configMap)
            {
                Assert.True(existing.Has("ConfigMap", Text(configMap["name"])), $"The patch mounts a ConfigMap the chart does not render: {configMap.ToJsonString()}");
            }
        }
        var annotations = patch["spec"]!["template"]!["metadata"]!["annotations"]!.AsObject();
        Assert.Equal("9464", Text(annotations["prometheus.io/port"]));
    }

    [Fact]
    public async Task Gpu_RequestsAGpu_OnGpuNodes_AndRunsTheOnnxModelFromTheVolume()
    {
        var chart = await HelmChart.TemplateAsync("-f", HelmChart.Example("values-gpu.yaml"));
        var (pod, gateway) = GatewayPod(chart);

        Assert.Equal("1", Text(gateway["resources"]!["limits"]!["nvidia.com/gpu"]));
        Assert.EndsWith("-cuda", Text(gateway["image"]), StringComparison.Ordinal);
        Assert.Equal("true", Text(pod["nodeSelector"]!["nvidia.com/gpu.present"]));
        var toleration = Items(pod["tolerations"]).Single();
        Assert.Equal("nvidia.com/gpu", Text(toleration["key"]));
        Assert.Equal("NoSchedule", Text(toleration["effect"]));

        // The model directory from the volume, read-only, is where the ONNX engine on CUDA loads from.
        var guard = chart.AppSettings["Guard"]!;
        Assert.Equal("Onnx", Text(guard["Engine"]));
        Assert.Equal("Cuda", Text(guard["Onnx"]!["Provider"]));
        var model = Mount(gateway, "gateway-model");
        Assert.Equal(Text(guard["Onnx"]!["ModelDirectory"]), Text(model["mountPath"]));
        Assert.Equal("true", Text(model["readOnly"]));
        Assert.Equal("llamaguard-7b-onnx", Text(Volume(pod, "gateway-model")["persistentVolumeClaim"]!["claimName"]));

        // Its replicas share verdicts through the bundled Redis.
        Assert.Equal(Name + "-redis:6379", Text(chart.AppSettings["Cache"]!["Redis"]));
        var redisService = chart.Get("Service", Name + "-redis");
        Assert.Equal("6379", Text(redisService.Body["spec"]!["ports"]![0]!["port"]));
        Assert.Equal("redis", Text(chart.Get("Deployment", Name + "-redis").PodSpec["containers"]![0]!["name"]));

        // API keys: tenants in the configuration, hashes from the Secret.
        Assert.Equal("ApiKeys", Text(chart.AppSettings["Auth"]!["Mode"]));
        Assert.Equal("team-a", Text(chart.AppSettings["Auth"]!["Keys"]![0]!["Tenant"]));
        Assert.Equal("gateway-api-keys", Text(Env(gateway, "Auth__Keys__0__Sha256")!["valueFrom"]!["secretKeyRef"]!["name"]));
    }

    [Fact]
    public async Task ScaleOut_AnHpaScalesTheGateways_WhichShareRedis_AndReachTheGuardOnItsOwnGpuDeployment()
    {
        var chart = await HelmChart.TemplateAsync("-f", HelmChart.Example("values-scale-out.yaml"));
        var (pod, gateway) = GatewayPod(chart);

        // The HPA owns the replica count.
        var hpa = chart.Get("HorizontalPodAutoscaler", Name);
        Assert.Equal("Deployment", Text(hpa.Body["spec"]!["scaleTargetRef"]!["kind"]));
        Assert.Equal(Name, Text(hpa.Body["spec"]!["scaleTargetRef"]!["name"]));
        Assert.Equal("3", Text(hpa.Body["spec"]!["minReplicas"]));
        Assert.Equal("20", Text(hpa.Body["spec"]!["maxReplicas"]));
        Assert.Null(chart.Get("Deployment", Name).Body["spec"]!["replicas"]);

        // Redis from a Secret (its configuration carries a password); upstream tokens from a whole Secret.
        Assert.Equal("gateway-redis", Text(Env(gateway, "Cache__Redis")!["valueFrom"]!["secretKeyRef"]!["name"]));
        Assert.Null(chart.AppSettings["Cache"]);
        Assert.Equal(new[] { "gateway-upstreams" }, Items(gateway["envFrom"]).Select(e => Text(e["secretRef"]!["name"])));

        // The gateways need no GPU; the guard server does, and the remote engine points at its Service.
        Assert.Null(gateway["resources"]!["limits"]!["nvidia.com/gpu"]);
        Assert.Null(pod["nodeSelector"]);
        var guardServer = chart.Get("Deployment", Name + "-guard");
        var vllm = Container(guardServer.PodSpec, "vllm");
        Assert.Equal("1", Text(vllm["resources"]!["limits"]!["nvidia.com/gpu"]));
        Assert.Equal("true", Text(guardServer.PodSpec["nodeSelector"]!["nvidia.com/gpu.present"]));
        Assert.Equal("nvidia.com/gpu", Text(guardServer.PodSpec["tolerations"]![0]!["key"]));
        var served = vllm["args"]!.AsArray().Select(Text).ToList();
        var guardService = chart.Get("Service", Name + "-guard");
        var guardPort = Text(guardService.Body["spec"]!["ports"]![0]!["port"]);
        var remote = chart.AppSettings["Guard"]!["Remote"]!;
        Assert.Equal("OpenAi", Text(chart.AppSettings["Guard"]!["Engine"]));
        Assert.Equal($"http://{Name}-guard:{guardPort}/", Text(remote["BaseAddress"]));
        Assert.Equal(served[served.IndexOf("--served-model-name") + 1], Text(remote["Model"]));
        Assert.Equal("LlamaGuard3", Text(remote["Family"]));
        Assert.Equal(Text(Mount(vllm, "model")["mountPath"]), served[served.IndexOf("--model") + 1]);
    }

    [Fact]
    public async Task Metrics_OnTheirOwnPort_WithScrapeAnnotations_AndAServiceMonitorWhenAsked()
    {
        var plain = await HelmChart.TemplateAsync();
        var (_, gateway) = GatewayPod(plain);
        var prometheus = plain.AppSettings["Telemetry"]!["Prometheus"]!;
        Assert.Equal("true", prometheus["Enabled"]!.ToJsonString());
        Assert.Equal(Port(gateway, "gw-metrics"), prometheus["Port"]!.ToJsonString());
        var annotations = PodAnnotations(plain);
        Assert.Equal("true", Text(annotations["prometheus.io/scrape"]));
        Assert.Equal(Port(gateway, "gw-metrics"), Text(annotations["prometheus.io/port"]));
        Assert.Equal(Text(prometheus["Path"]), Text(annotations["prometheus.io/path"]));

        var scaleOut = await HelmChart.TemplateAsync("-f", HelmChart.Example("values-scale-out.yaml"));
        var monitor = scaleOut.Get("ServiceMonitor", Name);
        var service = scaleOut.Get("Service", Name);
        foreach (var (label, value) in monitor.Body["spec"]!["selector"]!["matchLabels"]!.AsObject())
        {
            Assert.Equal(Text(value), Text(service.Body["metadata"]!["labels"]![label]));
        }
        var endpoint = monitor.Body["spec"]!["endpoints"]![0]!;
        var metricsPort = Items(service.Body["spec"]!["ports"]).Single(p => Text(p["name"]) == Text(endpoint["port"]));
        Assert.Equal("gw-metrics", Text(metricsPort["targetPort"]));
        Assert.Equal("/metrics", Text(endpoint["path"]));
        Assert.Equal("prometheus", Text(monitor.Body["metadata"]!["labels"]!["release"]));

        var off = await HelmChart.TemplateAsync("--set", "metrics.enabled=false");
        Assert.Null(off.AppSettings["Telemetry"]);
        Assert.Null(PodAnnotations(off)["prometheus.io/scrape"]);
        Assert.Equal("http://0.0.0.0:8080", Text(Env(GatewayPod(off).Gateway, "Urls")!["value"]));
    }

    [Fact]
    public async Task ChartCreatedSecret_IsLoadedWithEnvFrom_AndItsValuesStayOutOfThePodSpec()
    {
        var chart = await HelmChart.TemplateAsync("--set-string", "secrets.create.Gateway__Upstreams__cf__ApiToken=very-secret-token");

        var secret = chart.Get("Secret", Name);
        Assert.Equal("very-secret-token", Text(secret.Body["stringData"]!["Gateway__Upstreams__cf__ApiToken"]));
        var deployment = chart.Get("Deployment", Name);
        Assert.DoesNotContain("very-secret-token", deployment.Body.ToJsonString(), StringComparison.Ordinal);
        Assert.DoesNotContain("very-secret-token", chart.Get("ConfigMap", Name).Body.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(new[] { Name }, Items(GatewayPod(chart).Gateway["envFrom"]).Select(e => Text(e["secretRef"]!["name"])));
        // A changed Secret rolls the pods (environment variables are read at start).
        Assert.NotNull(deployment.PodAnnotations["checksum/secret"]);
    }

    [Fact]
    public async Task PolicyFiles_FromValues_LoadInNameOrder_AndAnExistingConfigMapByItsKeys()
    {
        var chart = await HelmChart.TemplateAsync(
            "--set-string", "policies.files.20-tenants\\.yaml=policies: []",
            "--set-string", "policies.files.10-base\\.yaml=policies: []");
        Assert.Equal(new[] { "/etc/moderation-gateway/policies/10-base.yaml", "/etc/moderation-gateway/policies/20-tenants.yaml" },
            chart.AppSettings["Policies"]!["Files"]!.AsArray().Select(Text));

        var existing = await HelmChart.TemplateAsync(
            "--set", "policies.existingConfigMap.name=team-policies", "--set", "policies.existingConfigMap.files={b.yaml,a.json}");
        Assert.False(existing.Has("ConfigMap", Name + "-policies"));
        Assert.Equal("team-policies", Text(Volume(GatewayPod(existing).Pod, "gateway-policies")["configMap"]!["name"]));
        Assert.Equal(new[] { "/etc/moderation-gateway/policies/b.yaml", "/etc/moderation-gateway/policies/a.json" },
            existing.AppSettings["Policies"]!["Files"]!.AsArray().Select(Text));
    }

    [Fact]
    public async Task DefaultPolicy_BlocksAndFailsClosed_OnceAGuardEngineIsConfigured()
    {
        var none = await HelmChart.TemplateAsync();
        Assert.Contains("check: false", Text(none.Get("ConfigMap", Name + "-policies").Body["data"]!["default.yaml"]), StringComparison.Ordinal);

        var remote = await HelmChart.TemplateAsync("--set", "guard.engine=OpenAi", "--set", "guard.remote.BaseAddress=http://vllm-guard:8000/");
        var policy = Text(remote.Get("ConfigMap", Name + "-policies").Body["data"]!["default.yaml"]);
        Assert.DoesNotContain("check: false", policy, StringComparison.Ordinal);
        Assert.Contains("failMode: closed", policy, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mode=daemon", "mode must be standalone or sidecar")]
    [InlineData("guard.engine=Onnx", "guard.model.volume")]
    [InlineData("guard.engine=LlamaGuard", "guard.engine must be None, Onnx, OpenAi or WorkersAi")]
    [InlineData("auth.mode=ApiKeys", "auth.keys")]
    [InlineData("guardServer.enabled=true", "guardServer.model.volume")]
    [InlineData("redis.bundled=true,redis.external.address=redis:6379", "either bundled or external")]
    public async Task ValuesThatCannotWork_AreRefused_SayingWhatToSet(string set, string message)
    {
        var error = await HelmChart.TemplateFailureAsync("--set", set);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }

    public static TheoryData<string> ValuesFiles()
    {
        var data = new TheoryData<string>();
        foreach (var file in HelmChart.ValuesFiles())
        {
            data.Add(Path.GetRelativePath(HelmChart.ChartDirectory, file));
        }
        return data;
    }

    /// <summary>The pod with the gateway container: the chart's Deployment in either mode.</summary>
    private static (JsonObject Pod, JsonObject Gateway) GatewayPod(RenderedChart chart)
    {
        var pod = chart.Get("Deployment", Name).PodSpec;
        return (pod, Container(pod, "gateway"));
    }

    private static JsonObject PodAnnotations(RenderedChart chart) => chart.Get("Deployment", Name).PodAnnotations;

    /// <summary>Liveness on /healthz, readiness on /readyz, both on the gateway's port; start-up on /healthz.</summary>
    private static void AssertProbes(JsonObject gateway)
    {
        foreach (var (probe, path) in new[] { ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz") })
        {
            var get = gateway[probe]!["httpGet"]!;
            Assert.Equal(path, Text(get["path"]));
            Assert.Equal("gw-http", Text(get["port"]));
        }
    }

    /// <summary>Variables and settings that hold secrets: tokens, key hashes, passwords, Redis configurations.</summary>
    [GeneratedRegex("ApiToken|Sha256|Password|Secret|Cache__Redis", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();
}
