using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>One series of an instant query's answer: its labels and its value (NaN and infinities included, as
/// Prometheus writes them).</summary>
public sealed record PrometheusSample(IReadOnlyDictionary<string, string> Labels, double Value)
{
    public override string ToString() =>
        "{" + string.Join(", ", Labels.Select(l => $"{l.Key}=\"{l.Value}\"")) + "} " + Value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>A real Prometheus for a test: Debian's <c>prometheus</c> binary (what CI installs) on a free loopback port,
/// with a generated configuration that scrapes the given targets every second and a temporary storage directory.
/// Stopped by its own process id at dispose.</summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    /// <summary>The scrape interval of the generated configuration.</summary>
    public static readonly TimeSpan ScrapeInterval = TimeSpan.FromSeconds(1);

    private readonly ChildProcess _process;
    private readonly string _directory;

    private PrometheusServer(ChildProcess process, string directory, Uri address)
    {
        _process = process;
        _directory = directory;
        BaseAddress = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri BaseAddress { get; }

    /// <summary>A client for Prometheus's HTTP API.</summary>
    public HttpClient Client { get; }

    /// <summary>The last lines Prometheus wrote, for failure messages.</summary>
    public string Output => _process.Output.Length <= 4000 ? _process.Output : _process.Output[^4000..];

    /// <summary>Starts Prometheus scraping <paramref name="targets"/> (<c>host:port</c>) under the job
    /// <paramref name="job"/> at <paramref name="metricsPath"/>, and waits until it is ready.</summary>
    public static async Task<PrometheusServer> StartAsync(string job, IEnumerable<string> targets, string metricsPath = "/metrics")
    {
        var executable = ChildProcess.FindOnPath("prometheus") ?? throw new InvalidOperationException(
            "These tests need a real Prometheus: the 'prometheus' binary is not on the PATH. Install the Debian package "
            + "prometheus (apt-get install prometheus; .ci/run does).");
        var directory = Directory.CreateTempSubdirectory("gateway-prometheus-").FullName;
        var config = Path.Combine(directory, "prometheus.yml");
        var seconds = ScrapeInterval.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s";
        await File.WriteAllTextAsync(config, $$"""
            global:
              scrape_interval: {{seconds}}
              evaluation_interval: {{seconds}}
            scrape_configs:
              - job_name: {{job}}
                metrics_path: {{metricsPath}}
                static_configs:
                  - targets: [{{string.Join(", ", targets.Select(t => $"\"{t}\""))}}]
            """);
        var port = FreePort();
        var process = ChildProcess.Start(executable,
        [
            "--config.file=" + config,
            "--storage.tsdb.path=" + Path.Combine(directory, "data"),
            "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture),
            // Debian's defaults point at /usr/share/prometheus; nothing here uses the console templates.
            "--web.console.templates=" + Path.Combine(directory, "consoles"),
            "--web.console.libraries=" + Path.Combine(directory, "console_libraries"),
        ], workingDirectory: directory);
        var server = new PrometheusServer(process, directory, new Uri($"http://127.0.0.1:{port}/"));
        try
        {
            await server.WaitReadyAsync();
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
        return server;
    }

    /// <summary>An instant query through <c>/api/v1/query</c>; the samples of a vector (one for a scalar).</summary>
    public async Task<IReadOnlyList<PrometheusSample>> QueryAsync(string expression)
    {
        using var response = await Client.GetAsync("api/v1/query?query=" + Uri.EscapeDataString(expression));
        var text = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        if (response.StatusCode != HttpStatusCode.OK || root.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"Prometheus refused the query {expression}: {(int)response.StatusCode} {text}");
        }
        var data = root.GetProperty("data");
        var result = data.GetProperty("result");
        return data.GetProperty("resultType").GetString() switch
        {
            "vector" => [.. result.EnumerateArray().Select(s => new PrometheusSample(
                s.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? ""),
                ParseValue(s.GetProperty("value")[1].GetString())))],
            "scalar" => [new PrometheusSample(new Dictionary<string, string>(), ParseValue(result[1].GetString()))],
            var other => throw new InvalidOperationException($"The query {expression} gave a {other}, not an instant vector or scalar."),
        };
    }

    /// <summary>Polls <paramref name="expression"/> until <paramref name="condition"/> holds for its samples, within
    /// <paramref name="timeout"/>; the last samples otherwise, in the exception.</summary>
    public async Task<IReadOnlyList<PrometheusSample>> WaitUntilAsync(
        string expression, Func<IReadOnlyList<PrometheusSample>, bool> condition, string what, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        IReadOnlyList<PrometheusSample> samples = [];
        while (true)
        {
            samples = await QueryAsync(expression);
            if (condition(samples))
            {
                return samples;
            }
            if (watch.Elapsed > timeout || _process.HasExited)
            {
                throw new TimeoutException(
                    $"Prometheus did not reach '{what}' within {timeout.TotalSeconds} s: {expression} gave [{string.Join("; ", samples)}]. "
                    + $"Prometheus output:\n{Output}");
            }
            await Task.Delay(ScrapeInterval / 5);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // The storage directory is temporary; a file still being closed is left to the OS.
        }
    }

    private async Task WaitReadyAsync()
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with {_process.ExitCode}:\n{Output}");
            }
            try
            {
                using var response = await Client.GetAsync("-/ready");
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
        throw new TimeoutException($"prometheus was not ready on {BaseAddress} within 60 s:\n{Output}");
    }

    private static double ParseValue(string? value) => value switch
    {
        "NaN" => double.NaN,
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(value ?? "NaN", NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
