using System.Diagnostics;
using System.Net;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>The real gateway in a process of its own (<c>dotnet gateway.dll serve</c> from the test's output
/// directory), configured through environment variables as a container is. Its metrics are its own: in the test
/// process every gateway's meter has the same name, and an OpenTelemetry meter provider listens to them all. Killed by
/// its process id at dispose.</summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(60);

    private readonly ChildProcess _process;

    private GatewayProcess(ChildProcess process, Uri address)
    {
        _process = process;
        BaseAddress = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>http://127.0.0.1:port/ of the first URL the gateway listens on.</summary>
    public Uri BaseAddress { get; }

    /// <summary>A client for the gateway.</summary>
    public HttpClient Client { get; }

    /// <summary>What the gateway logged (JSON lines), the last part of it.</summary>
    public string Output => _process.Output;

    /// <summary>Configuration keys (<c>Section:Key</c>) as the environment variables that set them (<c>Section__Key</c>).</summary>
    public static Dictionary<string, string> Environment(IEnumerable<KeyValuePair<string, string?>> configuration) =>
        configuration.Where(c => c.Value is not null)
            .ToDictionary(c => c.Key.Replace(":", "__", StringComparison.Ordinal), c => c.Value!, StringComparer.Ordinal);

    /// <summary>Starts the gateway with <paramref name="environment"/> (which must set <c>Urls</c>, its first URL on
    /// <c>127.0.0.1</c>) and waits until <c>/healthz</c> answers there.</summary>
    public static async Task<GatewayProcess> StartAsync(IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var first = environment["Urls"].Split(';')[0];
        var address = new Uri(first.TrimEnd('/') + "/");
        // dotnet test sets DOTNET_HOST_PATH to the muxer that runs the tests.
        var dotnet = System.Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var process = ChildProcess.Start(dotnet, [Path.Combine(AppContext.BaseDirectory, "gateway.dll"), "serve"], environment,
            AppContext.BaseDirectory);
        var gateway = new GatewayProcess(process, address);
        try
        {
            await gateway.WaitHealthyAsync();
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
        return gateway;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _process.DisposeAsync();
    }

    private async Task WaitHealthyAsync()
    {
        var watch = Stopwatch.StartNew();
        while (!_process.HasExited && watch.Elapsed < StartLimit)
        {
            try
            {
                using var response = await Client.GetAsync("healthz");
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
        throw new InvalidOperationException(_process.HasExited
            ? $"The gateway exited with {_process.ExitCode} before it answered /healthz:\n{Output}"
            : $"The gateway did not answer {BaseAddress}healthz within {StartLimit.TotalSeconds} s:\n{Output}");
    }
}
