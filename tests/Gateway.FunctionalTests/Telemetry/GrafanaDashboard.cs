using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gateway.FunctionalTests.Guarding;

namespace Gateway.FunctionalTests.Telemetry;

/// <summary>One query of a dashboard panel: the panel's title and type, the target's refId and its PromQL as written.</summary>
public sealed record PanelQuery(string Panel, string PanelType, string RefId, string Expression, string? DatasourceUid);

/// <summary>A Grafana dashboard JSON file read as Grafana reads it: panels (those inside rows too), their Prometheus
/// targets and the templating variables with their default values.</summary>
public sealed partial class GrafanaDashboard
{
    /// <summary>What the interval macros stand for when a query is run outside Grafana: a window that spans many
    /// one-second scrapes, and the whole of a test's run.</summary>
    public const string MacroWindow = "5m";

    private GrafanaDashboard(JsonObject root)
    {
        Root = root;
        Panels = [.. Flatten(root["panels"]?.AsArray() ?? [])];
        Queries = [.. Panels.SelectMany(p => (p["targets"]?.AsArray() ?? []).Select(t => new PanelQuery(
            (string?)p["title"] ?? "",
            (string?)p["type"] ?? "",
            (string?)t!["refId"] ?? "",
            (string?)t["expr"] ?? "",
            (string?)t["datasource"]?["uid"] ?? (string?)p["datasource"]?["uid"])))];
        Variables = (root["templating"]?["list"]?.AsArray() ?? []).Select(v => v!.AsObject()).ToDictionary(
            v => (string)v["name"]!, DefaultValue, StringComparer.Ordinal);
    }

    /// <summary>The policy-audit dashboard the compose stack provisions.</summary>
    public static string PolicyAuditPath =>
        Path.Combine(RandomGuardModelFixture.RepoRoot(), "deploy", "grafana", "dashboards", "policy-audit.json");

    public JsonObject Root { get; }

    /// <summary>Every panel, rows' nested panels included; rows themselves too.</summary>
    public IReadOnlyList<JsonObject> Panels { get; }

    /// <summary>Every target of every panel.</summary>
    public IReadOnlyList<PanelQuery> Queries { get; }

    /// <summary>Each templating variable's default: the current value, or the variable's all-value when it is "All".</summary>
    public IReadOnlyDictionary<string, string> Variables { get; }

    public static GrafanaDashboard Load(string path) =>
        new(JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidOperationException($"{path} is not a JSON object."));

    /// <summary>The query as Grafana would send it with the variables at their defaults and the interval macros
    /// (<c>$__rate_interval</c>, <c>$__interval</c>, <c>$__range</c>) at <see cref="MacroWindow"/>.</summary>
    public string Expand(string expression)
    {
        var text = IntervalMacro().Replace(expression, MacroWindow);
        foreach (var (name, value) in Variables.OrderByDescending(v => v.Key.Length))
        {
            text = text.Replace("${" + name + "}", value, StringComparison.Ordinal)
                .Replace("[[" + name + "]]", value, StringComparison.Ordinal);
            text = Regex.Replace(text, @"\$" + Regex.Escape(name) + @"(?![A-Za-z0-9_])", value.Replace("$", "$$", StringComparison.Ordinal));
        }
        return text;
    }

    private static string DefaultValue(JsonObject variable)
    {
        var current = variable["current"]?["value"];
        var values = current switch
        {
            JsonArray array => array.Select(v => (string?)v ?? "").ToList(),
            JsonValue value => [(string?)value ?? ""],
            _ => [],
        };
        if (values.Count == 0 || values.Contains("$__all"))
        {
            // Grafana's "All" without a custom all-value is every option joined; the dashboard's variables set one.
            return (string?)variable["allValue"]
                ?? throw new InvalidOperationException($"Variable {variable["name"]} defaults to All without an allValue.");
        }
        return values.Count == 1 ? values[0] : "(" + string.Join("|", values.Select(v => Regex.Escape(v))) + ")";
    }

    private static IEnumerable<JsonObject> Flatten(JsonArray panels)
    {
        foreach (var panel in panels.Select(p => p!.AsObject()))
        {
            yield return panel;
            foreach (var nested in Flatten(panel["panels"]?.AsArray() ?? []))
            {
                yield return nested;
            }
        }
    }

    // Only the macros that stand for a duration; the _ms and _s forms are numbers and are left in place (and so caught).
    [GeneratedRegex(@"\$__(rate_interval|interval|range)(?![A-Za-z0-9_])|\$\{__(rate_interval|interval|range)\}")]
    private static partial Regex IntervalMacro();
}
