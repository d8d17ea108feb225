using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Gateway.Telemetry;

/// <summary>The gateway's own traces and metrics (source and meter <c>Gateway</c>).</summary>
/// <remarks>Instruments cost nothing until a listener (the OpenTelemetry meter provider, a test) is attached.</remarks>
public sealed class GatewayMetrics
{
    /// <summary>The activity source for generation spans.</summary>
    public static readonly ActivitySource ActivitySource = new(TelemetryExtensions.SourceName);

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _decisions;
    private readonly Counter<long> _cacheLookups;
    private readonly Counter<long> _redisFailures;

    /// <summary>Creates the instruments on a meter from the host's factory.</summary>
    public GatewayMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(TelemetryExtensions.SourceName);
        _requests = meter.CreateCounter<long>("gateway.requests", "{request}", "Text-generation requests, by API surface, model and HTTP status.");
        _duration = meter.CreateHistogram<double>("gateway.request.duration", "s", "Time from request start to the last byte of the response.");
        _decisions = meter.CreateCounter<long>("gateway.moderation.decisions", "{decision}",
            "Moderation decisions, by policy, role (prompt, response) and outcome (allowed, flagged, blocked, fail-open, fail-closed).");
        _cacheLookups = meter.CreateCounter<long>("gateway.cache.verdicts", "{lookup}", "Verdict cache lookups, by result (hit, miss).");
        _redisFailures = meter.CreateCounter<long>("gateway.cache.redis.failures", "{failure}",
            "Redis operations of the verdict cache that failed or timed out; the in-memory level answered alone.");
    }

    /// <summary>Records one finished request.</summary>
    public void RequestFinished(string api, string? model, int status, TimeSpan duration)
    {
        var tags = new TagList { { "api", api }, { "model", model ?? "unknown" }, { "http.response.status_code", status } };
        _requests.Add(1, tags);
        _duration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>Records one moderation decision.</summary>
    public void ModerationDecided(string policy, string role, string outcome) =>
        _decisions.Add(1, new TagList { { "policy", policy }, { "role", role }, { "outcome", outcome } });

    /// <summary>Records one verdict cache lookup.</summary>
    public void VerdictCacheLookup(Caching.CacheUse use) =>
        _cacheLookups.Add(1, new KeyValuePair<string, object?>("result", use == Caching.CacheUse.Hit ? "hit" : "miss"));

    /// <summary>Records one failed Redis operation.</summary>
    public void RedisFailed(string operation) => _redisFailures.Add(1, new KeyValuePair<string, object?>("operation", operation));
}
