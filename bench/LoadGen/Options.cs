using System.Globalization;

namespace Bench.LoadGen;

/// <summary>Options of <c>run</c>.</summary>
internal sealed class Options
{
    public required Uri Upstream { get; init; }

    public required Uri GatewayWorkersAi { get; init; }

    public required Uri GatewayOpenAi { get; init; }

    public int? UpstreamPid { get; init; }

    public int? GatewayWorkersAiPid { get; init; }

    public int? GatewayOpenAiPid { get; init; }

    /// <summary>An nginx reverse proxy in front of the same upstream (the nginx reference scenarios); null: none.</summary>
    public Uri? Nginx { get; init; }

    /// <summary>nginx's processes, master first.</summary>
    public IReadOnlyList<int> NginxPids { get; init; } = [];

    public IReadOnlyList<int> Connections { get; init; } = [1, 16, 64];

    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(3);

    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Load on every scenario and side once, before the first measured run (JIT tiering).</summary>
    public TimeSpan Prime { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Each row first waits for other processes to use at most this many cores (averaged over a second).</summary>
    public double MaxForeignCores { get; init; } = 0.2;

    /// <summary>Longest wait for a quiet machine before each row.</summary>
    public TimeSpan QuietWait { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Alternating slices per side and row: the measured time is split into this many direct and gateway slices.</summary>
    public int Rounds { get; init; } = 5;

    /// <summary>Scenario names to run; empty runs all.</summary>
    public IReadOnlyList<string> Scenarios { get; init; } = [];

    public string? Out { get; init; }

    public string Command { get; init; } = "./bench/run.sh";

    public string? Commit { get; init; }

    /// <summary><c>--name value</c> and <c>--name=value</c> pairs, by name.</summary>
    public static Dictionary<string, string> Pairs(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument '{arg}'");
            }
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                values[arg[2..eq]] = arg[(eq + 1)..];
            }
            else if (i + 1 < args.Count)
            {
                values[arg[2..]] = args[++i];
            }
            else
            {
                throw new ArgumentException($"'{arg}' needs a value");
            }
        }
        return values;
    }

    public static Options Parse(IReadOnlyList<string> args)
    {
        var values = Pairs(args);
        string Required(string name) => values.Remove(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
        string? Optional(string name) => values.Remove(name, out var v) && v.Length > 0 ? v : null;
        static int? Pid(string? v) => v is null ? null : int.Parse(v, CultureInfo.InvariantCulture);
        static TimeSpan Seconds(string? v, double fallback) => TimeSpan.FromSeconds(v is null ? fallback : double.Parse(v, CultureInfo.InvariantCulture));
        static string[] List(string? v) => v?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

        var options = new Options
        {
            Upstream = new Uri(Required("upstream")),
            GatewayWorkersAi = new Uri(Required("gateway-workersai")),
            GatewayOpenAi = new Uri(Required("gateway-openai")),
            UpstreamPid = Pid(Optional("upstream-pid")),
            GatewayWorkersAiPid = Pid(Optional("gateway-workersai-pid")),
            GatewayOpenAiPid = Pid(Optional("gateway-openai-pid")),
            Nginx = Optional("nginx") is { } nginx ? new Uri(nginx) : null,
            NginxPids = [.. List(Optional("nginx-pids")).Select(x => int.Parse(x, CultureInfo.InvariantCulture))],
            Connections = Optional("connections") is { } c ? [.. List(c).Select(x => int.Parse(x, CultureInfo.InvariantCulture))] : [1, 16, 64],
            Warmup = Seconds(Optional("warmup"), 3),
            Duration = Seconds(Optional("duration"), 10),
            Prime = Seconds(Optional("prime"), 2),
            MaxForeignCores = Optional("max-foreign-cores") is { } mf ? double.Parse(mf, CultureInfo.InvariantCulture) : 0.2,
            QuietWait = Seconds(Optional("quiet-wait"), 10),
            Rounds = Optional("rounds") is { } rounds ? int.Parse(rounds, CultureInfo.InvariantCulture) : 5,
            Scenarios = Optional("scenarios") is { } s && s != "all" ? List(s) : [],
            Out = Optional("out"),
            Command = Optional("command") ?? "./bench/run.sh",
            Commit = Optional("commit"),
        };
        if (values.Count > 0)
        {
            throw new ArgumentException("unknown option(s): " + string.Join(", ", values.Keys.Select(k => "--" + k)));
        }
        if (options.Rounds < 1)
        {
            throw new ArgumentException("--rounds must be at least 1");
        }
        if (options.Connections.Count == 0 || options.Connections.Any(n => n < 1))
        {
            throw new ArgumentException("--connections must list positive numbers");
        }
        return options;
    }
}
