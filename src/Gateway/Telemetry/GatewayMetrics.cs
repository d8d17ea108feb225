using System.Diagnostics;
using System.Diagnostics.Metrics;
using M = Gateway.Telemetry.SemanticNames.Metrics;

namespace Gateway.Telemetry;

/// <summary>The gateway's own traces and metrics (source and meter <c>Gateway</c>); names in <see cref="SemanticNames"/>,
/// described in docs/observability.md.</summary>
/// <remarks>Instruments cost nothing until a listener (the OpenTelemetry meter provider, a test) is attached: every
/// method checks <see cref="Instrument.Enabled"/> before it builds its tags.</remarks>
public sealed class GatewayMetrics
{
    /// <summary>The activity source for the gateway's spans.</summary>
    public static readonly ActivitySource ActivitySource = new(TelemetryExtensions.SourceName);

    // Bucket bounds of the latency histograms, in seconds: the HTTP conventions' bounds, extended for long generations.
    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120],
    };

    // Tag values for HTTP status codes, boxed once.
    private static readonly object[] Statuses = [.. Enumerable.Range(0, 600).Select(s => (object)s)];

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _decisions;
    private readonly Counter<long> _blocks;
    private readonly Histogram<double> _guardDuration;
    private readonly Counter<long> _cacheLookups;
    private readonly Counter<long> _redisFailures;
    private readonly Histogram<double> _timeToFirstByte;
    private readonly Histogram<double> _holdDuration;

    /// <summary>Creates the instruments on a meter from the host's factory.</summary>
    public GatewayMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(TelemetryExtensions.SourceName);
        _requests = meter.CreateCounter<long>(M.Requests, "{request}",
            "Text-generation requests, by API surface, model, HTTP status and the moderation outcome that decided them.");
        _duration = meter.CreateHistogram<double>(M.RequestDuration, "s", "Time from request start to the last byte of the response.", tags: null, Seconds);
        _decisions = meter.CreateCounter<long>(M.Decisions, "{decision}",
            "Moderation decisions, by policy, role (prompt, response) and outcome (allowed, flagged, blocked, fail-open, fail-closed).");
        _blocks = meter.CreateCounter<long>(M.Blocks, "{category}",
            "Blocked prompts and responses, one per category code that blocked, by role, category and policy.");
        _guardDuration = meter.CreateHistogram<double>(M.GuardDuration, "s",
            "Guard checks (verdict cache included), by engine, role, cache (hit, miss) and outcome.", tags: null, Seconds);
        _cacheLookups = meter.CreateCounter<long>(M.CacheVerdicts, "{lookup}", "Verdict cache lookups, by result (hit, miss).");
        _redisFailures = meter.CreateCounter<long>(M.RedisFailures, "{failure}",
            "Redis operations of the verdict cache that failed or timed out; the in-memory level answered alone.");
        _timeToFirstByte = meter.CreateHistogram<double>(M.StreamTimeToFirstByte, "s",
            "Streams: time from request start to the first SSE bytes written to the client, by API, model and streaming mode.", tags: null, Seconds);
        _holdDuration = meter.CreateHistogram<double>(M.StreamHoldDuration, "s",
            "Streams: how long each released event was held by the stream filter, by streaming mode (windowed, buffered).", tags: null, Seconds);
    }

    /// <summary>Records one finished request.</summary>
    /// <param name="api">The API surface.</param>
    /// <param name="model">The catalog model id; null when the request named none from the catalog.</param>
    /// <param name="status">The HTTP status the client got.</param>
    /// <param name="outcome">The moderation outcome that decided the request (<see cref="SemanticNames.Outcomes"/>).</param>
    /// <param name="duration">Request start to the last byte.</param>
    public void RequestFinished(string api, string? model, int status, string outcome, TimeSpan duration)
    {
        if (!_requests.Enabled && !_duration.Enabled)
        {
            return;
        }
        var tags = new TagList
        {
            { M.TagApi, api },
            { M.TagModel, model ?? M.UnknownModel },
            { SemanticNames.General.HttpResponseStatusCode, (uint)status < (uint)Statuses.Length ? Statuses[status] : status },
            { M.TagOutcome, outcome },
        };
        _requests.Add(1, tags);
        _duration.Record(duration.TotalSeconds, tags);
    }

    /// <summary>Records one moderation decision.</summary>
    public void ModerationDecided(string policy, string role, string outcome)
    {
        if (_decisions.Enabled)
        {
            _decisions.Add(1, new TagList { { M.TagPolicy, policy }, { M.TagRole, role }, { M.TagOutcome, outcome } });
        }
    }

    /// <summary>Records one blocked prompt or response: one measurement per category (already mapped to bounded values).</summary>
    public void Blocked(string policy, string role, IReadOnlyList<string> categories)
    {
        ArgumentNullException.ThrowIfNull(categories);
        if (!_blocks.Enabled)
        {
            return;
        }
        if (categories.Count == 0)
        {
            _blocks.Add(1, new TagList { { M.TagRole, role }, { M.TagCategory, M.NoCategory }, { M.TagPolicy, policy } });
            return;
        }
        foreach (var category in categories)
        {
            _blocks.Add(1, new TagList { { M.TagRole, role }, { M.TagCategory, category }, { M.TagPolicy, policy } });
        }
    }

    /// <summary>Records one guard check.</summary>
    /// <param name="engine">The guard engine's name.</param>
    /// <param name="role"><c>prompt</c> or <c>response</c>.</param>
    /// <param name="cacheHit">Whether the verdict came from the cache.</param>
    /// <param name="outcome">The decision's outcome.</param>
    /// <param name="duration">How long the check took.</param>
    public void GuardChecked(string engine, string role, bool cacheHit, string outcome, TimeSpan duration)
    {
        if (_guardDuration.Enabled)
        {
            _guardDuration.Record(duration.TotalSeconds, new TagList
            {
                { M.TagEngine, engine },
                { M.TagRole, role },
                { M.TagCache, cacheHit ? M.Hit : M.Miss },
                { M.TagOutcome, outcome },
            });
        }
    }

    /// <summary>Records one verdict cache lookup.</summary>
    public void VerdictCacheLookup(Caching.CacheUse use)
    {
        if (_cacheLookups.Enabled)
        {
            _cacheLookups.Add(1, new KeyValuePair<string, object?>(M.TagResult, use == Caching.CacheUse.Hit ? M.Hit : M.Miss));
        }
    }

    /// <summary>Records one failed Redis operation.</summary>
    public void RedisFailed(string operation)
    {
        if (_redisFailures.Enabled)
        {
            _redisFailures.Add(1, new KeyValuePair<string, object?>(M.TagOperation, operation));
        }
    }

    /// <summary>Whether <see cref="StreamStarted"/> records anything (spares callers the work of measuring).</summary>
    public bool TimeToFirstByteEnabled => _timeToFirstByte.Enabled;

    /// <summary>Records a stream's time to first byte.</summary>
    /// <param name="api">The API surface.</param>
    /// <param name="model">The catalog model id.</param>
    /// <param name="mode"><c>windowed</c>, <c>buffered</c>, <c>audit</c> or <c>none</c>.</param>
    /// <param name="elapsed">Request start to the first SSE bytes written.</param>
    public void StreamStarted(string api, string model, string mode, TimeSpan elapsed)
    {
        if (_timeToFirstByte.Enabled)
        {
            _timeToFirstByte.Record(elapsed.TotalSeconds, new TagList { { M.TagApi, api }, { M.TagModel, model }, { M.TagMode, mode } });
        }
    }

    /// <summary>Whether <see cref="StreamEventReleased"/> records anything.</summary>
    public bool HoldDurationEnabled => _holdDuration.Enabled;

    /// <summary>Records how long one released stream event was held.</summary>
    public void StreamEventReleased(string mode, TimeSpan held)
    {
        if (_holdDuration.Enabled)
        {
            _holdDuration.Record(held.TotalSeconds, new KeyValuePair<string, object?>(M.TagMode, mode));
        }
    }
}
