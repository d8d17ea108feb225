using Gateway.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Logs;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>The real gateway on Kestrel, bound to 127.0.0.1 on a free port.</summary>
public sealed class GatewayServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayServer(WebApplication app, Uri address)
    {
        _app = app;
        BaseAddress = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri BaseAddress { get; }

    /// <summary>A client for the gateway.</summary>
    public HttpClient Client { get; }

    /// <summary>The gateway's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a gateway with configuration overrides (for example routes to a <see cref="ScriptedUpstream"/>);
    /// <see cref="BaseAddress"/> is the first of <paramref name="urls"/>. <paramref name="configFile"/> is passed as
    /// <c>--config</c>, which applies over the overrides (as over environment variables in a container).</summary>
    public static async Task<GatewayServer> StartAsync(
        IEnumerable<KeyValuePair<string, string?>>? overrides = null, Action<IServiceCollection>? services = null, string urls = "http://127.0.0.1:0",
        string? configFile = null)
    {
        string[] args = configFile is null ? ["--urls", urls] : ["--urls", urls, "--config", configFile];
        var builder = GatewayHost.CreateBuilder(args, overrides);
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(CapturingLoggerProvider.Instance);
        if (!string.IsNullOrEmpty(builder.Configuration["Telemetry:OtlpEndpoint"]))
        {
            // Clearing the providers removed OpenTelemetry's too; its exporters stay configured, so it only needs adding back.
            builder.Logging.AddOpenTelemetry();
        }
        services?.Invoke(builder.Services);
        var app = GatewayHost.Build(builder);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        return new GatewayServer(app, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <summary>Configuration that sends every model to <paramref name="upstream"/> as a <paramref name="kind"/> upstream
    /// named <paramref name="name"/>.</summary>
    public static Dictionary<string, string?> RouteAllTo(ScriptedUpstream upstream, string kind, string? token = "upstream-secret-token", string name = "backend")
    {
        return new Dictionary<string, string?>
        {
            [$"Gateway:Upstreams:{name}:Kind"] = kind,
            [$"Gateway:Upstreams:{name}:AccountId"] = "gateway-account",
            [$"Gateway:Upstreams:{name}:ApiToken"] = token,
            [$"Gateway:Upstreams:{name}:StreamIdleTimeout"] = "00:00:03",
            [$"Gateway:Upstreams:{name}:ResponseTimeout"] = "00:00:05",
            ["Gateway:Routes:0:Models"] = "*",
            ["Gateway:Routes:0:Upstream"] = name,
            [$"ReverseProxy:Clusters:{name}:Destinations:d1:Address"] = upstream.BaseAddress.ToString(),
        };
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
