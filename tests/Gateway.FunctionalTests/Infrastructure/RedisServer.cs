using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Testcontainers.Redis;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>A real Redis for a test: Debian's <c>redis-server</c> started on a free loopback port (what CI installs),
/// or, where no redis-server is on the PATH, a Testcontainers Redis on a Docker engine. Stopped by its own process id
/// (or container) at dispose.</summary>
public sealed class RedisServer : IAsyncDisposable
{
    private readonly Process? _process;
    private readonly RedisContainer? _container;

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

    public static async Task<RedisServer> StartAsync(int? port = null)
    {
        var executable = FindOnPath("redis-server");
        if (executable is null)
        {
            return await StartContainerAsync();
        }
        var chosen = port ?? FreePort();
        var process = Process.Start(new ProcessStartInfo(executable)
        {
            ArgumentList = { "--port", chosen.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("redis-server did not start");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var server = new RedisServer($"127.0.0.1:{chosen}", process, null);
        for (var i = 0; i < 100; i++)
        {
            if (await server.PingAsync())
            {
                return server;
            }
            if (process.HasExited)
            {
                break;
            }
            await Task.Delay(50);
        }
        await server.DisposeAsync();
        throw new InvalidOperationException($"redis-server did not answer PING on port {chosen}");
    }

    /// <summary>Sends PING over a plain socket; true on <c>+PONG</c>.</summary>
    public async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }
            _process.Dispose();
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
