using OpenTelemetry.Exporter;

namespace Gateway.Telemetry;

/// <summary>Where telemetry goes (<c>Telemetry</c>). With no OTLP endpoint and Prometheus off, no OpenTelemetry
/// pipeline is built and the gateway's instruments cost nothing.</summary>
public sealed class TelemetryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Telemetry";

    /// <summary>The <c>service.name</c> resource attribute.</summary>
    public string ServiceName { get; set; } = "moderation-gateway";

    /// <summary>OTLP endpoint for traces, metrics and logs; <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> works too (and the other
    /// standard <c>OTEL_EXPORTER_OTLP_*</c> variables).</summary>
    public Uri? OtlpEndpoint { get; set; }

    /// <summary>The OTLP protocol for <see cref="OtlpEndpoint"/>: <c>Grpc</c> (port 4317) or <c>HttpProtobuf</c>
    /// (port 4318; the signal paths <c>/v1/traces</c>, <c>/v1/metrics</c>, <c>/v1/logs</c> are appended).</summary>
    public OtlpExportProtocol OtlpProtocol { get; set; } = OtlpExportProtocol.Grpc;

    /// <summary>The Prometheus scrape endpoint.</summary>
    public PrometheusOptions Prometheus { get; set; } = new();

    /// <summary>Whether each audit record (event 6100, <c>gateway.moderation.audit</c>) carries the prompt and
    /// response text. Off by default: with it on, every prompt and response reaches the log pipeline and whatever
    /// the logs are exported to (docs/observability.md#audit-record).</summary>
    public bool AuditContent { get; set; }
}

/// <summary>The Prometheus scrape endpoint (<c>Telemetry:Prometheus</c>).</summary>
public sealed class PrometheusOptions
{
    /// <summary>Serve metrics in the Prometheus text format.</summary>
    public bool Enabled { get; set; }

    /// <summary>The path of the scrape endpoint.</summary>
    public string Path { get; set; } = "/metrics";

    /// <summary>When set, the endpoint answers only on this local port (listen on it too, for example
    /// <c>--urls "http://0.0.0.0:8080;http://0.0.0.0:9464"</c>), so it is not reachable through the public port.</summary>
    public int? Port { get; set; }
}
