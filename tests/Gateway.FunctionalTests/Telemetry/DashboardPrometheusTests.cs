using System.Globalization;
using System.Text.RegularExpressions;
using Gateway.FunctionalTests.Infrastructure;

namespace Gateway.FunctionalTests.Telemetry;

/// <summary>The compose stack's "Policy audit" dashboard against a real Prometheus: every panel's query, taken from
/// deploy/grafana/dashboards/policy-audit.json with the variables at their defaults, returns data through
/// Prometheus's HTTP API after the gateway served scripted traffic (<see cref="DashboardTrafficFixture"/>).</summary>
public sealed partial class DashboardPrometheusTests(DashboardTrafficFixture traffic) : IClassFixture<DashboardTrafficFixture>
{
    private static readonly GrafanaDashboard Dashboard = GrafanaDashboard.Load(GrafanaDashboard.PolicyAuditPath);

    public static TheoryData<string, string> PanelQueries
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var query in Dashboard.Queries)
            {
                data.Add(query.Panel, query.RefId);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(PanelQueries))]
    public async Task PanelQuery_ReturnsData(string panel, string refId)
    {
        var query = Dashboard.Queries.Single(q => q.Panel == panel && q.RefId == refId);
        var expression = Dashboard.Expand(query.Expression);
        Assert.DoesNotContain("$", expression, StringComparison.Ordinal);

        var samples = await traffic.Prometheus.QueryAsync(expression);

        Assert.True(samples.Count > 0, $"'{panel}' ({refId}) has no data: {expression}");
        // Data that is all zero or NaN would draw an empty panel: the traffic moved every series the panel shows.
        Assert.True(samples.Any(s => double.IsFinite(s.Value) && s.Value > 0),
            $"'{panel}' ({refId}) has no positive value: {expression} gave [{string.Join("; ", samples)}]");
    }

    public static TheoryData<string> Histograms
    {
        get
        {
            var data = new TheoryData<string>();
            foreach (var name in Dashboard.Queries.SelectMany(q => BucketSeries().Matches(q.Expression).Select(m => m.Value)).Distinct().Order(StringComparer.Ordinal))
            {
                data.Add(name);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Histograms))]
    public async Task LatencyHistogram_HasBucketsFinerThanASecond(string buckets)
    {
        // Percentiles interpolate within a bucket: with only whole-second bounds (or the SDK's default bounds, meant
        // for milliseconds), a guard check of a few milliseconds would read as seconds.
        var bounds = (await traffic.Prometheus.QueryAsync($"count by (le) ({buckets})"))
            .Select(s => s.Labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(s.Labels["le"], NumberStyles.Float, CultureInfo.InvariantCulture))
            .ToList();

        Assert.True(bounds.Count > 0, $"Prometheus has no {buckets} series.");
        Assert.True(bounds.Count(b => b > 0 && b <= 0.1) >= 3,
            $"{buckets} has bucket bounds [{string.Join(", ", bounds.Order())}]: fewer than three between 0 and 100 ms.");
    }

    [Fact]
    public async Task EveryPanelQuery_HasBeenTried()
    {
        // The theory above covers each query; this pins that the dashboard has some and that Prometheus scraped the
        // gateway on its metrics port throughout.
        Assert.NotEmpty(Dashboard.Queries);
        var up = await traffic.Prometheus.QueryAsync($"up{{job=\"{DashboardTrafficFixture.Job}\"}}");
        var sample = Assert.Single(up);
        Assert.Equal(1, sample.Value);
        Assert.Equal($"127.0.0.1:{traffic.MetricsPort.ToString(CultureInfo.InvariantCulture)}", sample.Labels["instance"]);
        var requests = await traffic.Prometheus.QueryAsync($"sum(gateway_requests_total{{job=\"{DashboardTrafficFixture.Job}\"}})");
        Assert.Equal(traffic.Sent, Assert.Single(requests).Value);
    }

    [GeneratedRegex(@"\b[a-z_:][a-z0-9_:]*_bucket\b")]
    private static partial Regex BucketSeries();
}
