using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Telemetry;

/// <summary>Wires OpenTelemetry tracing and metrics by hand (the hosting integration package is not used) and exports
/// them over OTLP when an endpoint is configured.</summary>
public static class TelemetryExtensions
{
    /// <summary>The gateway's own ActivitySource and Meter name.</summary>
    public const string SourceName = "Gateway";

    private static readonly string[] Sources = [SourceName, "Microsoft.AspNetCore", "System.Net.Http", "Yarp.ReverseProxy"];
    private static readonly string[] Meters = [SourceName, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http"];

    /// <summary>Adds tracer and meter providers exporting to <c>Telemetry:OtlpEndpoint</c> or
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>; without either, nothing is collected.</summary>
    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var endpoint = configuration["Telemetry:OtlpEndpoint"] ?? configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(endpoint) || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
        {
            return services;
        }
        var serviceName = configuration["Telemetry:ServiceName"] ?? "moderation-gateway";
        var resource = ResourceBuilder.CreateDefault().AddService(serviceName);
        // Registered as singletons so the host disposes (and flushes) them at shutdown.
        services.AddSingleton(_ => Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(Sources)
            .AddOtlpExporter(o => o.Endpoint = uri)
            .Build());
        services.AddSingleton(_ => Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(Meters)
            .AddOtlpExporter(o => o.Endpoint = uri)
            .Build());
        services.AddHostedService<TelemetryStarter>();
        return services;
    }
}

/// <summary>Resolves the providers at start so they listen from the first request.</summary>
internal sealed class TelemetryStarter : Microsoft.Extensions.Hosting.IHostedService
{
    // Taking the providers as dependencies is what creates them; they listen from then on.
    public TelemetryStarter(TracerProvider tracer, MeterProvider meter)
    {
        ArgumentNullException.ThrowIfNull(tracer);
        ArgumentNullException.ThrowIfNull(meter);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
