using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>The gateway as its own process: <c>dotnet gateway.dll serve</c> (the build the test project copies next to
/// itself), configured by command-line overrides, on a free loopback port it reports in its log. Its standard output
/// (JSON console logs) is kept; it is killed by its process id at dispose.</summary>
public sealed partial class CommandLineGateway : IAsyncDisposable
{
    private readonly Process _process;

    private CommandLineGateway(Process process, Uri address, ConcurrentQueue<string> lines)
    {
        _process = process;
        BaseAddress = address;
        Lines = lines;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri BaseAddress { get; }

    /// <summary>A client for the gateway.</summary>
    public HttpClient Client { get; }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Every line the process wrote (standard output and error), in order.</summary>
    public ConcurrentQueue<string> Lines { get; }

    /// <summary>Starts the gateway with <paramref name="configuration"/> as <c>--Key=Value</c> overrides and waits until it
    /// answers <c>/healthz</c>.</summary>
    public static async Task<CommandLineGateway> StartAsync(IEnumerable<KeyValuePair<string, string?>> configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var dll = Path.Combine(AppContext.BaseDirectory, "gateway.dll");
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: the test project copies the gateway's build next to itself.");
        }
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet")
        {
            ArgumentList = { dll, "serve", "--urls", "http://127.0.0.1:0" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var (key, value) in configuration)
        {
            if (value is not null)
            {
                start.ArgumentList.Add($"--{key}={value}");
            }
        }
        var lines = new ConcurrentQueue<string>();
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        void OnLine(object? sender, DataReceivedEventArgs e)
        {
            if (e.Data is not { } line)
            {
                return;
            }
            lines.Enqueue(line);
            if (ListeningOn().Match(line) is { Success: true } match)
            {
                listening.TrySetResult(new Uri(match.Groups[1].Value.TrimEnd('/') + "/"));
            }
        }
        process.OutputDataReceived += OnLine;
        process.ErrorDataReceived += OnLine;
        process.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("the gateway process exited at start-up"));
        if (!process.Start())
        {
            throw new InvalidOperationException("the gateway process did not start");
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Uri address;
        try
        {
            address = await listening.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
        {
            await KillAsync(process);
            throw new InvalidOperationException($"The gateway process did not start listening ({ex.Message}):{Environment.NewLine}{string.Join(Environment.NewLine, lines)}", ex);
        }
        var gateway = new CommandLineGateway(process, address, lines);
        for (var i = 0; ; i++)
        {
            try
            {
                using var health = await gateway.Client.GetAsync("/healthz");
                if (health.IsSuccessStatusCode)
                {
                    return gateway;
                }
            }
            catch (HttpRequestException) when (i < 100 && !process.HasExited)
            {
            }
            if (i >= 100 || process.HasExited)
            {
                await gateway.DisposeAsync();
                throw new InvalidOperationException("The gateway process did not answer /healthz:" + Environment.NewLine + string.Join(Environment.NewLine, lines));
            }
            await Task.Delay(100);
        }
    }

    /// <summary>The JSON log records the process wrote with event id <paramref name="eventId"/>, in order.</summary>
    public IReadOnlyList<JsonElement> Events(int eventId)
    {
        var found = new List<JsonElement>();
        foreach (var line in Lines)
        {
            if (!line.StartsWith('{'))
            {
                continue;
            }
            try
            {
                using var record = JsonDocument.Parse(line);
                if (record.RootElement.TryGetProperty("EventId", out var id) && id.ValueKind == JsonValueKind.Number && id.GetInt32() == eventId)
                {
                    found.Add(record.RootElement.Clone());
                }
            }
            catch (JsonException)
            {
                // A line that is not a whole record (console output interleaved): not an event.
            }
        }
        return found;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await KillAsync(_process);
    }

    private static async Task KillAsync(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        finally
        {
            process.Dispose();
        }
    }

    [GeneratedRegex(@"Now listening on: (http://[0-9.:\[\]a-z]+)", RegexOptions.CultureInvariant)]
    private static partial Regex ListeningOn();
}
