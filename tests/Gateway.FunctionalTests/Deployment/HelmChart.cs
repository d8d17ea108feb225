using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.FunctionalTests.Guarding;
using Gateway.FunctionalTests.Infrastructure;

namespace Gateway.FunctionalTests.Deployment;

/// <summary>What <c>helm</c> printed and how it ended.</summary>
public sealed record HelmResult(int ExitCode, string Stdout, string Stderr);

/// <summary>One rendered Kubernetes object as JSON; every YAML scalar is a string, as written (<c>"8080"</c>,
/// <c>"true"</c>), and an empty or null scalar is null.</summary>
public sealed record Manifest(string Kind, string Name, JsonObject Body)
{
    /// <summary>The pod template's spec of a Deployment.</summary>
    public JsonObject PodSpec => Body["spec"]!["template"]!["spec"]!.AsObject();

    /// <summary>The pod template's annotations of a Deployment.</summary>
    public JsonObject PodAnnotations => Body["spec"]!["template"]!["metadata"]!["annotations"]!.AsObject();
}

/// <summary>Everything one <c>helm template</c> rendered.</summary>
public sealed class RenderedChart(IReadOnlyList<Manifest> manifests)
{
    public IReadOnlyList<Manifest> All { get; } = manifests;

    public IEnumerable<Manifest> OfKind(string kind) => All.Where(m => m.Kind == kind);

    public Manifest Get(string kind, string name) =>
        All.SingleOrDefault(m => m.Kind == kind && m.Name == name)
        ?? throw new Xunit.Sdk.XunitException($"No {kind} named {name} was rendered; rendered: {Describe()}");

    public bool Has(string kind, string name) => All.Any(m => m.Kind == kind && m.Name == name);

    /// <summary>The gateway's configuration file (appsettings.Production.json in the chart's ConfigMap).</summary>
    public JsonObject AppSettings =>
        JsonNode.Parse(Get("ConfigMap", HelmChart.FullName).Body["data"]!["appsettings.Production.json"]!.GetValue<string>())!.AsObject();

    public string Describe() => string.Join(", ", All.Select(m => $"{m.Kind}/{m.Name}"));
}

/// <summary>Renders deploy/helm/moderation-gateway with the helm binary that <c>eng/helm.sh</c> fetches into
/// eng/.cache/helm (<c>./eng/bootstrap.sh --tests</c> runs it).</summary>
public static class HelmChart
{
    /// <summary>The release name every test renders with.</summary>
    public const string Release = "gw";

    /// <summary>The chart's resource name prefix for <see cref="Release"/>.</summary>
    public const string FullName = "gw-moderation-gateway";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static string ChartDirectory => Path.Combine(RandomGuardModelFixture.RepoRoot(), "deploy", "helm", "moderation-gateway");

    /// <summary>A values file of the chart's examples folder.</summary>
    public static string Example(string fileName) => Path.Combine(ChartDirectory, "examples", fileName);

    /// <summary>The chart's values files: its defaults and every example.</summary>
    public static IEnumerable<string> ValuesFiles() =>
        new[] { Path.Combine(ChartDirectory, "values.yaml") }.Concat(Directory.GetFiles(Path.Combine(ChartDirectory, "examples"), "values-*.yaml").Order(StringComparer.Ordinal));

    /// <summary><c>helm template gw {chart} {args}</c>, which must succeed.</summary>
    public static async Task<RenderedChart> TemplateAsync(params string[] args)
    {
        var result = await RunAsync(["template", Release, ChartDirectory, "--namespace", "apps", .. args]);
        Assert.True(result.ExitCode == 0, $"helm template {string.Join(' ', args)} failed with exit code {result.ExitCode}:\n{result.Stderr}");
        return Parse(result.Stdout);
    }

    /// <summary><c>helm template gw {chart} {args}</c>, which must fail; returns what helm said.</summary>
    public static async Task<string> TemplateFailureAsync(params string[] args)
    {
        var result = await RunAsync(["template", Release, ChartDirectory, .. args]);
        Assert.True(result.ExitCode != 0, $"helm template {string.Join(' ', args)} was expected to fail but rendered:\n{result.Stdout}");
        return result.Stderr;
    }

    public static async Task<HelmResult> RunAsync(IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(HelmPath())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        // Helm's caches and settings stay in the fetched binary's folder, as with eng/helm.sh; no kubeconfig is read.
        var home = Path.Combine(Path.GetDirectoryName(start.FileName)!, "home");
        start.Environment["HELM_CACHE_HOME"] = Path.Combine(home, "cache");
        start.Environment["HELM_CONFIG_HOME"] = Path.Combine(home, "config");
        start.Environment["HELM_DATA_HOME"] = Path.Combine(home, "data");
        start.Environment["KUBECONFIG"] = "/dev/null";

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"Could not start {start.FileName} ({e.Message}). Run ./eng/helm.sh (or ./eng/bootstrap.sh --tests) to fetch it again.");
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"helm did not finish within {Timeout.TotalSeconds} s and was killed (pid {process.Id}).");
        }
        return new HelmResult(process.ExitCode, await stdout, await stderr);
    }

    /// <summary>The YAML documents of a <c>helm template</c> output, empty ones left out.</summary>
    public static RenderedChart Parse(string yaml)
    {
        var manifests = new List<Manifest>();
        foreach (var document in YamlJson.ParseAll(yaml))
        {
            if (document is not JsonObject body)
            {
                continue;
            }
            manifests.Add(new Manifest(body["kind"]!.GetValue<string>(), body["metadata"]!["name"]!.GetValue<string>(), body));
        }
        return new RenderedChart(manifests);
    }

    private static string HelmPath()
    {
        var path = Path.Combine(RandomGuardModelFixture.RepoRoot(), "eng", ".cache", "helm", "helm");
        if (!File.Exists(path))
        {
            Assert.Fail($"helm is not installed ({path} is missing). The chart tests render the Helm chart with it: run " +
                "./eng/helm.sh (or ./eng/bootstrap.sh --tests, which CI and ./build.sh test run) from the repository root.");
        }
        return path;
    }
}

/// <summary>Reading pod specs.</summary>
public static class PodSpecs
{
    public static JsonObject Container(JsonObject podSpec, string name) =>
        podSpec["containers"]!.AsArray().Select(c => c!.AsObject()).SingleOrDefault(c => Text(c["name"]) == name)
        ?? throw new Xunit.Sdk.XunitException($"No container {name} in the pod spec: {podSpec.ToJsonString()}");

    public static IEnumerable<JsonObject> Items(JsonNode? list) => list?.AsArray().Select(i => i!.AsObject()) ?? [];

    /// <summary>The container's environment variable entry, or null.</summary>
    public static JsonObject? Env(JsonObject container, string name) => Items(container["env"]).SingleOrDefault(e => Text(e["name"]) == name);

    /// <summary>The container port's number by name.</summary>
    public static string Port(JsonObject container, string name) =>
        Text(Items(container["ports"]).Single(p => Text(p["name"]) == name)["containerPort"]);

    public static JsonObject Volume(JsonObject podSpec, string name) => Items(podSpec["volumes"]).Single(v => Text(v["name"]) == name);

    public static JsonObject Mount(JsonObject container, string volume) => Items(container["volumeMounts"]).Single(m => Text(m["name"]) == volume);

    public static string Text(JsonNode? node) => node?.GetValue<string>() ?? "";
}
