using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Gateway.Telemetry;

/// <summary>OpenTelemetry the service-defaults way: ASP.NET Core, HttpClient and runtime instrumentation plus the
/// gateway's own source and meter, traces, metrics and logs exported over OTLP when an endpoint is configured, and
/// metrics on a Prometheus scrape endpoint when enabled (docs/observability.md).</summary>
public static partial class TelemetryExtensions
{
    /// <summary>The gateway's own ActivitySource and Meter name.</summary>
    public const string SourceName = "Gateway";

    private static readonly string[] Sources = [SourceName, "Yarp.ReverseProxy"];
    private static readonly string[] Meters = [SourceName, "Microsoft.AspNetCore.Server.Kestrel"];

    /// <summary>Adds the OpenTelemetry pipeline when an exporter is configured: <c>Telemetry:OtlpEndpoint</c> or
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (traces, metrics and logs over OTLP), <c>Telemetry:Prometheus:Enabled</c>
    /// (metrics on a scrape endpoint). Without either, nothing is collected.</summary>
    public static IServiceCollection AddGatewayTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(TelemetryOptions.SectionName);
        services.Configure<TelemetryOptions>(section);
        var options = section.Get<TelemetryOptions>() ?? new TelemetryOptions();
        var otlpFromEnvironment = options.OtlpEndpoint is null
            && Uri.TryCreate(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"], UriKind.Absolute, out _);
        var otlp = options.OtlpEndpoint is not null || otlpFromEnvironment;
        if (!otlp && !options.Prometheus.Enabled)
        {
            return services;
        }

        var builder = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(options.ServiceName))
            .WithMetrics(metrics =>
            {
                metrics.AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddMeter(Meters);
                if (options.Prometheus.Enabled)
                {
                    metrics.AddPrometheusExporter();
                }
            });
        if (otlp)
        {
            builder.WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddSource(Sources));
            // The host's logs, the audit records among them (event 6100), as OTLP log records with their structured
            // attributes; the body is the message template, never the formatted message.
            builder.WithLogging(configureBuilder: null, configureOptions: logging =>
            {
                logging.IncludeFormattedMessage = false;
                logging.IncludeScopes = false;
            });
            // Without an endpoint in configuration, the exporter reads the standard OTEL_EXPORTER_OTLP_* variables.
            if (options.OtlpEndpoint is { } endpoint)
            {
                builder.UseOtlpExporter(options.OtlpProtocol, endpoint);
            }
            else
            {
                builder.UseOtlpExporter();
            }
        }
        return services;
    }

    /// <summary>Maps the Prometheus scrape endpoint when it is enabled, restricted to its own port when one is set;
    /// warns at start-up when it answers on every port, and when audit records carry text.</summary>
    public static WebApplication MapGatewayTelemetry(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<IOptions<TelemetryOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Telemetry");
        if (options.AuditContent)
        {
            LogAuditContent(logger);
        }
        if (!options.Prometheus.Enabled)
        {
            return app;
        }
        var port = options.Prometheus.Port;
        if (port is null)
        {
            LogMetricsOnEveryPort(logger, options.Prometheus.Path);
        }
        app.UseOpenTelemetryPrometheusScrapingEndpoint(context =>
            context.Request.Path == options.Prometheus.Path
            && (port is null || context.Connection.LocalPort == port));
        return app;
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Warning, Message = "The Prometheus endpoint {Path} answers on every port the gateway listens on, the public one included, without authentication; set Telemetry:Prometheus:Port to serve it on its own port")]
    private static partial void LogMetricsOnEveryPort(ILogger logger, string path);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Warning, Message = "Telemetry:AuditContent is on: every audit record carries the prompt and response text, and so does every log exporter and store it reaches")]
    private static partial void LogAuditContent(ILogger logger);
}
