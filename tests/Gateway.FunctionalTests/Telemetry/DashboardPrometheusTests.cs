using System.Globalization;
using Gateway.FunctionalTests.Infrastructure;

namespace Gateway.FunctionalTests.Telemetry;

/// <summary>The compose stack's "Policy audit" dashboard against a real Prometheus: every panel's query, taken from
/// deploy/grafana/dashboards/policy-audit.json with the variables at their defaults, returns data through
/// Prometheus's HTTP API after the gateway served scripted traffic (<see cref="DashboardTrafficFixture"/>).</summary>
public sealed class DashboardPrometheusTests(DashboardTrafficFixture traffic) : IClassFixture<DashboardTrafficFixture>
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
}
