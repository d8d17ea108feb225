using System.Text.Json.Nodes;
using Gateway.FunctionalTests.Guarding;
using Gateway.FunctionalTests.Infrastructure;

namespace Gateway.FunctionalTests.Telemetry;

/// <summary>The "Policy audit" dashboard as a file Grafana provisions: its panels, their data source and what they
/// show. <see cref="DashboardPrometheusTests"/> runs its queries against a real Prometheus.</summary>
public sealed class PolicyAuditDashboardTests
{
    private static readonly GrafanaDashboard Dashboard = GrafanaDashboard.Load(GrafanaDashboard.PolicyAuditPath);

    [Fact]
    public void Dashboard_HasAStableUid_UniquePanels_AndTargetsOnEveryPanel()
    {
        Assert.Equal("policy-audit", (string?)Dashboard.Root["uid"]);
        Assert.Equal("Policy audit", (string?)Dashboard.Root["title"]);
        var panels = Dashboard.Panels;
        Assert.Equal(panels.Count, panels.Select(p => (int)p["id"]!).Distinct().Count());
        var charts = panels.Where(p => (string?)p["type"] != "row").ToList();
        Assert.Equal(charts.Count, charts.Select(p => (string?)p["title"]).Distinct().Count());
        Assert.All(charts, p => Assert.NotEmpty(p["targets"]?.AsArray() ?? []));
        Assert.All(Dashboard.Queries, q => Assert.False(string.IsNullOrWhiteSpace(q.Expression), $"{q.Panel} ({q.RefId}) has no expr"));
        // Panels of the grid do not overlap.
        var cells = new HashSet<(int X, int Y)>();
        foreach (var panel in panels)
        {
            var grid = panel["gridPos"]!;
            for (var x = (int)grid["x"]!; x < (int)grid["x"]! + (int)grid["w"]!; x++)
            {
                for (var y = (int)grid["y"]!; y < (int)grid["y"]! + (int)grid["h"]!; y++)
                {
                    Assert.True(cells.Add((x, y)), $"'{panel["title"]}' overlaps another panel at ({x}, {y})");
                }
            }
        }
    }

    [Fact]
    public void EveryQuery_UsesTheProvisionedPrometheus()
    {
        var datasources = YamlJson.LoadFile(Path.Combine(RandomGuardModelFixture.RepoRoot(),
            "deploy", "grafana", "provisioning", "datasources", "datasources.yaml"))["datasources"]!.AsArray();
        var prometheus = Assert.Single(datasources, d => (string?)d!["type"] == "prometheus")!;

        Assert.All(Dashboard.Queries, q => Assert.Equal((string?)prometheus["uid"], q.DatasourceUid));
        Assert.All(Dashboard.Variables.Keys, name => Assert.Equal((string?)prometheus["uid"],
            (string?)Dashboard.Root["templating"]!["list"]!.AsArray().Single(v => (string?)v!["name"] == name)!["datasource"]!["uid"]));
    }

    [Fact]
    public void Variables_DefaultToAll_AndEveryQueryExpandsToPlainPromQL()
    {
        Assert.NotEmpty(Dashboard.Variables);
        Assert.All(Dashboard.Variables.Values, value => Assert.Equal(".*", value));
        Assert.All(Dashboard.Queries, q => Assert.DoesNotContain("$", Dashboard.Expand(q.Expression), StringComparison.Ordinal));
    }

    public static TheoryData<string, string[]> AuditPanels => new()
    {
        { "blocks over time by category and role", ["gateway_moderation_blocks_total", "by (role, category)", "rate("] },
        { "guard latency percentiles", ["histogram_quantile(0.95, sum by (le) (rate(gateway_guard_duration_seconds_bucket"] },
        { "guard latency median", ["histogram_quantile(0.5, sum by (le) (rate(gateway_guard_duration_seconds_bucket"] },
        { "verdict cache hit ratio", ["gateway_cache_verdicts_total{result=\"hit\"}", "/ sum(rate(gateway_cache_verdicts_total["] },
        { "fail-open events", ["gateway_moderation_decisions_total", "fail-open"] },
        { "fail-closed events", ["gateway_moderation_decisions_total", "fail-closed"] },
        { "stream time to first byte", ["histogram_quantile(0.95, sum by (le) (rate(gateway_stream_time_to_first_byte_seconds_bucket"] },
        { "requests by outcome", ["sum by (outcome) (rate(gateway_requests_total"] },
    };

    [Theory]
    [MemberData(nameof(AuditPanels))]
    public void Dashboard_ShowsWhatThePolicyAuditNeeds(string what, string[] fragments)
    {
        Assert.True(Dashboard.Queries.Any(q => fragments.All(f => q.Expression.Contains(f, StringComparison.Ordinal))),
            $"No panel shows {what}: no query contains all of [{string.Join(", ", fragments)}].");
    }

    [Fact]
    public void Dashboard_IsTheJsonGrafanaReads()
    {
        // Provisioning reads the file as a whole dashboard object (not the API's {"dashboard": ...} envelope), and a
        // provisioned dashboard must not carry a numeric id of another Grafana.
        Assert.Null(Dashboard.Root["dashboard"]);
        Assert.True(Dashboard.Root["id"] is null, "a provisioned dashboard has no id");
        Assert.IsType<JsonArray>(Dashboard.Root["panels"]);
        Assert.True((int)Dashboard.Root["schemaVersion"]! >= 36);
    }
}
