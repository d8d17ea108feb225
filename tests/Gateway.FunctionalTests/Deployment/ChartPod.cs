using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.FunctionalTests.Infrastructure;
using static Gateway.FunctionalTests.Deployment.PodSpecs;

namespace Gateway.FunctionalTests.Deployment;

/// <summary>
/// A ConfigMap volume as the kubelet writes it (its atomic writer): the files in a hidden timestamped directory, a
/// <c>..data</c> link to that directory, and one link per file through <c>..data</c>. An update writes a new
/// directory, points <c>..data_tmp</c> at it, renames that over <c>..data</c> (the one atomic step), adjusts the
/// per-file links and removes the old directory; the files themselves are never written in place.
/// </summary>
public sealed class ConfigMapVolume
{
    private int _version;

    public ConfigMapVolume(string path, IReadOnlyDictionary<string, string> data)
    {
        Path = path;
        Directory.CreateDirectory(path);
        Update(data);
    }

    public string Path { get; }

    public void Update(IReadOnlyDictionary<string, string> data)
    {
        var dataLink = System.IO.Path.Combine(Path, "..data");
        var old = File.Exists(dataLink) || Directory.Exists(dataLink) ? new FileInfo(dataLink).LinkTarget : null;
        var version = string.Create(CultureInfo.InvariantCulture, $"..{DateTime.UtcNow:yyyy_MM_dd_HH_mm_ss}.{++_version}");
        Directory.CreateDirectory(System.IO.Path.Combine(Path, version));
        foreach (var (name, text) in data)
        {
            File.WriteAllText(System.IO.Path.Combine(Path, version, name), text);
        }
        var temporary = System.IO.Path.Combine(Path, "..data_tmp");
        File.CreateSymbolicLink(temporary, version);
        Rename(temporary, dataLink);
        foreach (var name in data.Keys)
        {
            var link = System.IO.Path.Combine(Path, name);
            if (!File.Exists(link))
            {
                File.CreateSymbolicLink(link, System.IO.Path.Combine("..data", name));
            }
        }
        foreach (var link in Directory.GetFiles(Path).Where(f => !System.IO.Path.GetFileName(f).StartsWith("..", StringComparison.Ordinal)))
        {
            if (!data.ContainsKey(System.IO.Path.GetFileName(link)))
            {
                File.Delete(link);
            }
        }
        if (old is not null)
        {
            Directory.Delete(System.IO.Path.Combine(Path, old), recursive: true);
        }
    }

    /// <summary>rename(2) of a link over another, as the kubelet does (<c>mv -T</c> calls it directly).</summary>
    private static void Rename(string from, string to)
    {
        using var mv = Process.Start(new ProcessStartInfo("mv", ["-T", from, to]) { UseShellExecute = false })!;
        mv.WaitForExit();
        Assert.Equal(0, mv.ExitCode);
    }
}

/// <summary>
/// The gateway as the chart's pod runs it, on this machine: the rendered configuration file as <c>--config</c>, the
/// policy ConfigMap as a kubelet-style volume where Policies:Files points, and the container's secret references
/// as environment-like configuration with stand-in values. Nothing leaves the machine: every URL in the
/// configuration is pointed at a closed local port, and the image's tokenizer paths at the bootstrap's.
/// </summary>
public sealed class ChartPod : IAsyncDisposable
{
    private const string ClosedPort = "http://127.0.0.1:9/";
    private const string ImageTokenizers = "/app/tokenizers/";

    private ChartPod(GatewayServer gateway, ConfigMapVolume policies, Uri metrics)
    {
        Gateway = gateway;
        Policies = policies;
        Metrics = metrics;
    }

    public GatewayServer Gateway { get; }

    /// <summary>The mounted policies ConfigMap.</summary>
    public ConfigMapVolume Policies { get; }

    /// <summary>The metrics listener (the chart's own metrics port, moved to a free one).</summary>
    public Uri Metrics { get; }

    /// <summary>The API key whose SHA-256 the stand-in for Secret key <paramref name="secretKey"/> holds.</summary>
    public static string ApiKeyFor(string secretKey) => "key-for-" + secretKey;

    public static async Task<ChartPod> StartAsync(RenderedChart chart, string directory)
    {
        var pod = chart.Get("Deployment", HelmChart.FullName).PodSpec;
        var container = Container(pod, "gateway");

        // The policies volume, at a local path instead of the container's mount path.
        var mountPath = Text(Mount(container, "gateway-policies")["mountPath"]);
        var configMap = chart.Get("ConfigMap", Text(Volume(pod, "gateway-policies")["configMap"]!["name"]));
        var policies = new ConfigMapVolume(Path.Combine(directory, "policies"), DataOf(configMap));

        var metricsPort = FreePort();
        var settings = chart.AppSettings;
        Localize(settings, mountPath, policies.Path);
        if (settings["Telemetry"]?["Prometheus"] is JsonObject prometheus)
        {
            prometheus["Port"] = metricsPort;
        }
        var configFile = Path.Combine(directory, "appsettings.Production.json");
        await File.WriteAllTextAsync(configFile, settings.ToJsonString());

        var gateway = await GatewayServer.StartAsync(StandIns(container), urls: $"http://127.0.0.1:0;http://127.0.0.1:{metricsPort}", configFile: configFile);
        return new ChartPod(gateway, policies, new Uri($"http://127.0.0.1:{metricsPort}/"));
    }

    public static Dictionary<string, string> DataOf(Manifest configMap) =>
        configMap.Body["data"]!.AsObject().ToDictionary(e => e.Key, e => Text(e.Value), StringComparer.Ordinal);

    /// <summary><c>/readyz</c>'s body (its status code depends on upstreams this machine cannot reach).</summary>
    public async Task<JsonElement> ReadyAsync()
    {
        using var response = await Gateway.Client.GetAsync("/readyz");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    public ValueTask DisposeAsync() => Gateway.DisposeAsync();

    /// <summary>Values for the container's secretKeyRef variables, as configuration keys (<c>__</c> is <c>:</c>).</summary>
    private static Dictionary<string, string?> StandIns(JsonObject container)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var env in Items(container["env"]))
        {
            if (env["valueFrom"]?["secretKeyRef"] is not { } reference)
            {
                continue;
            }
            var name = Text(env["name"]);
            var key = Text(reference["key"]);
            values[name.Replace("__", ":", StringComparison.Ordinal)] = name switch
            {
                _ when name.EndsWith("__Sha256", StringComparison.Ordinal) =>
                    Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ApiKeyFor(key)))),
                "Cache__Redis" => "127.0.0.1:9",
                _ => "stand-in-" + key,
            };
        }
        return values;
    }

    private static void Localize(JsonNode node, string mountPath, string policiesPath)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj.ToList())
                {
                    if (value is JsonValue v && v.TryGetValue<string>(out var text))
                    {
                        obj[key] = Localized(text, mountPath, policiesPath);
                    }
                    else if (value is not null)
                    {
                        Localize(value, mountPath, policiesPath);
                    }
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue v && v.TryGetValue<string>(out var text))
                    {
                        array[i] = Localized(text, mountPath, policiesPath);
                    }
                    else if (array[i] is { } child)
                    {
                        Localize(child, mountPath, policiesPath);
                    }
                }
                break;
        }
    }

    private static string Localized(string text, string mountPath, string policiesPath)
    {
        if (text.StartsWith(mountPath + "/", StringComparison.Ordinal))
        {
            return Path.Combine(policiesPath, text[(mountPath.Length + 1)..]);
        }
        if (text.StartsWith(ImageTokenizers, StringComparison.Ordinal))
        {
            return BootstrapTokenizers.Directory(text[ImageTokenizers.Length..]);
        }
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? ClosedPort
            : text;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
