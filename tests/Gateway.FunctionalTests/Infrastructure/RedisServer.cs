using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Testcontainers.Redis;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>A real Redis for a test: Debian's <c>redis-server</c> started on a free loopback port (what CI installs),
/// or, where no redis-server is on the PATH, a Testcontainers Redis on a Docker engine. Stopped by its own process id
/// (or container) at dispose. A redis-server (<see cref="StartProcessAsync"/>) can also be killed, restarted on the same
/// port, and paused (SIGSTOP: connections stay open and nothing answers) and resumed.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly RedisContainer? _container;
    private Process? _process;

    private RedisServer(string configuration, Process? process, RedisContainer? container)
    {
        Configuration = configuration;
        _process = process;
        _container = container;
    }

    /// <summary>The StackExchange.Redis configuration string (<c>127.0.0.1:port</c>).</summary>
    public string Configuration { get; }

    /// <summary>The port (redis-server only).</summary>
    public int Port => int.Parse(Configuration[(Configuration.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Whether the server is paused (<see cref="PauseAsync"/>).</summary>
    public bool Paused { get; private set; }

    public static async Task<RedisServer> StartAsync(int? port = null)
    {
        var executable = FindOnPath("redis-server");
        if (executable is null)
        {
            return await StartContainerAsync();
        }
        var chosen = port ?? FreePort();
        var server = new RedisServer($"127.0.0.1:{chosen}", null, null);
        await server.LaunchAsync(executable);
        return server;
    }

    /// <summary>Starts a redis-server process (never a container): the fault tests kill, restart and pause it.</summary>
    public static Task<RedisServer> StartProcessAsync() =>
        FindOnPath("redis-server") is null
            ? throw new InvalidOperationException("This test needs redis-server on the PATH (Debian package redis-server; .ci/run installs it).")
            : StartAsync();

    /// <summary>Kills the server (SIGKILL: no shutdown, every connection dropped) and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        var process = _process ?? throw new InvalidOperationException("Only a redis-server process can be killed.");
        if (!process.HasExited)
        {
            process.Kill();
            await process.WaitForExitAsync();
        }
        Paused = false;
    }

    /// <summary>Starts redis-server again on the same port (empty: nothing is saved) once it answers PING.</summary>
    public async Task RestartAsync()
    {
        if (_process is not { HasExited: true } old)
        {
            throw new InvalidOperationException("Kill the redis-server before restarting it.");
        }
        old.Dispose();
        _process = null;
        await LaunchAsync(FindOnPath("redis-server")!);
    }

    /// <summary>Stops the server (SIGSTOP): its connections stay open and nothing is answered, as with a Redis that hangs.</summary>
    public async Task PauseAsync()
    {
        await SignalAsync("STOP");
        Paused = true;
    }

    /// <summary>Lets a paused server go on (SIGCONT); it answers what was sent meanwhile.</summary>
    public async Task ResumeAsync()
    {
        await SignalAsync("CONT");
        Paused = false;
    }

    /// <summary>Sends PING over a plain socket; true on <c>+PONG</c>, false when nothing answers within 5 s.</summary>
    public async Task<bool> PingAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token);
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task LaunchAsync(string executable)
    {
        var process = Process.Start(new ProcessStartInfo(executable)
        {
            ArgumentList = { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        for (var i = 0; i < 100; i++)
        {
            if (await PingAsync())
            {
                return;
            }
            if (process.HasExited)
            {
                break;
            }
            await Task.Delay(50);
        }
        await DisposeAsync();
        throw new InvalidOperationException($"redis-server did not answer PING on port {Port}");
    }

    private async Task SignalAsync(string signal)
    {
        var process = _process is { HasExited: false } p ? p : throw new InvalidOperationException("No redis-server process is running.");
        using var kill = Process.Start(new ProcessStartInfo("kill")
        {
            ArgumentList = { "-s", signal, process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("kill did not start");
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -s {signal} {process.Id} failed ({kill.ExitCode})");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                // SIGKILL ends a paused (stopped) process too.
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
            _process = null;
        }
        if (_container is not null)
        {
            await _container.DisposeAsync();
        }
    }

    private static async Task<RedisServer> StartContainerAsync()
    {
        var container = new RedisBuilder("redis:7.0").Build();
        try
        {
            await container.StartAsync();
        }
        catch (Exception ex)
        {
            await container.DisposeAsync();
            throw new InvalidOperationException(
                "These tests need a real Redis: install redis-server (Debian package redis-server; .ci/run does) or run a Docker engine.", ex);
        }
        return new RedisServer(container.GetConnectionString(), null, container);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
