using System.Globalization;

namespace Bench.LoadGen;

/// <summary>Options of <c>stream</c>, the streamed-moderation benchmark (bench/stream-moderation.sh).</summary>
internal sealed class StreamOptions
{
    /// <summary>The API surfaces a stream can be requested on.</summary>
    public static readonly string[] Protocols = ["openai-chat", "workers-ai"];

    /// <summary>The moderated modes; each protocol also runs <c>unmoderated</c>, the baseline.</summary>
    public static readonly string[] Modes = ["windowed", "buffered", "prompt-only"];

    public required Uri Gateway { get; init; }

    public required Uri Guard { get; init; }

    public int? GatewayPid { get; init; }

    public int? UpstreamPid { get; init; }

    public int? GuardPid { get; init; }

    /// <summary>Word pieces per stream (the request's max_tokens; the paced upstream sends exactly that many).</summary>
    public int Tokens { get; init; } = 500;

    /// <summary>The upstream's pace, for the predictions and the text lag (it must match the upstream's setting).</summary>
    public double TokensPerSecond { get; init; } = 100;

    /// <summary>When the upstream sends its first piece, after the request; null: one interval.</summary>
    public double? FirstTokenMs { get; init; }

    /// <summary>Fixed guard latencies, in ms.</summary>
    public IReadOnlyList<double> Latencies { get; init; } = [5, 20, 100];

    /// <summary>The default of <see cref="Matrix"/>.</summary>
    public const string DefaultMatrix = "openai-chat:windowed,openai-chat:buffered,openai-chat:prompt-only:20,workers-ai:windowed";

    /// <summary>(protocol, mode, latencies) entries: <c>protocol:mode</c> runs at every latency of <see cref="Latencies"/>,
    /// <c>protocol:mode:ms[/ms...]</c> at those given.</summary>
    public IReadOnlyList<(string Protocol, string Mode, IReadOnlyList<double>? Latencies)> Matrix { get; init; } = [];

    /// <summary>Measured rounds: each runs every configuration once, in an order rotated per round.</summary>
    public int Rounds { get; init; } = 4;

    /// <summary>Streams of the same configuration sent at once per round.</summary>
    public int Concurrency { get; init; } = 1;

    /// <summary>Unmeasured rounds first, with short streams (JIT, connections).</summary>
    public int WarmupRounds { get; init; } = 2;

    public int WarmupTokens { get; init; } = 40;

    /// <summary>The policy's streaming settings, for the predictions (the defaults of docs/policies.md).</summary>
    public int Window { get; init; } = 400;

    public int MinWindow { get; init; } = 100;

    public int HoldBack { get; init; } = 100;

    public int MaxChecksInFlight { get; init; } = 2;

    public double MaxForeignCores { get; init; } = 0.2;

    public TimeSpan QuietWait { get; init; } = TimeSpan.FromSeconds(5);

    public string? Out { get; init; }

    public string Command { get; init; } = "./bench/stream-moderation.sh";

    public string? Commit { get; init; }

    public TimeSpan Interval => TimeSpan.FromSeconds(1 / TokensPerSecond);

    public TimeSpan FirstToken => FirstTokenMs is { } ms ? TimeSpan.FromMilliseconds(ms) : Interval;

    public static StreamOptions Parse(IReadOnlyList<string> args)
    {
        var values = Options.Pairs(args);
        string Required(string name) => values.Remove(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
        string? Optional(string name) => values.Remove(name, out var v) && v.Length > 0 ? v : null;
        static int? Pid(string? v) => v is null ? null : int.Parse(v, CultureInfo.InvariantCulture);
        static int Int(string? v, int fallback) => v is null ? fallback : int.Parse(v, CultureInfo.InvariantCulture);
        static double Number(string v) => double.Parse(v, CultureInfo.InvariantCulture);
        static string[] List(string? v) => v?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

        var defaults = new StreamOptions { Gateway = new Uri("http://127.0.0.1"), Guard = new Uri("http://127.0.0.1") };
        var options = new StreamOptions
        {
            Gateway = new Uri(Required("gateway")),
            Guard = new Uri(Required("guard")),
            GatewayPid = Pid(Optional("gateway-pid")),
            UpstreamPid = Pid(Optional("upstream-pid")),
            GuardPid = Pid(Optional("guard-pid")),
            Tokens = Int(Optional("tokens"), defaults.Tokens),
            TokensPerSecond = Optional("tokens-per-second") is { } r ? Number(r) : defaults.TokensPerSecond,
            FirstTokenMs = Optional("first-token-ms") is { } f ? Number(f) : null,
            Latencies = Optional("latencies") is { } l ? [.. List(l).Select(Number)] : defaults.Latencies,
            Matrix = [.. List(Optional("matrix") ?? DefaultMatrix).Select(ParseEntry)],
            Rounds = Int(Optional("rounds"), defaults.Rounds),
            Concurrency = Int(Optional("concurrency"), defaults.Concurrency),
            WarmupRounds = Int(Optional("warmup-rounds"), defaults.WarmupRounds),
            WarmupTokens = Int(Optional("warmup-tokens"), defaults.WarmupTokens),
            Window = Int(Optional("window"), defaults.Window),
            MinWindow = Int(Optional("min-window"), defaults.MinWindow),
            HoldBack = Int(Optional("hold-back"), defaults.HoldBack),
            MaxChecksInFlight = Int(Optional("max-checks-in-flight"), defaults.MaxChecksInFlight),
            MaxForeignCores = Optional("max-foreign-cores") is { } mf ? Number(mf) : defaults.MaxForeignCores,
            QuietWait = Optional("quiet-wait") is { } q ? TimeSpan.FromSeconds(Number(q)) : defaults.QuietWait,
            Out = Optional("out"),
            Command = Optional("command") ?? defaults.Command,
            Commit = Optional("commit"),
        };
        if (values.Count > 0)
        {
            throw new ArgumentException("unknown option(s): " + string.Join(", ", values.Keys.Select(k => "--" + k)));
        }
        if (options.Tokens < 1 || options.WarmupTokens < 1 || options.TokensPerSecond <= 0 || options.Rounds < 1 || options.Concurrency < 1
            || options.WarmupRounds < 0 || options.Latencies.Count == 0 || options.Latencies.Any(x => x < 0)
            || options.Matrix.Any(m => m.Latencies?.Any(x => x < 0) == true))
        {
            throw new ArgumentException("--tokens, --warmup-tokens, --tokens-per-second, --rounds and --concurrency must be positive, --latencies non-empty and not negative");
        }
        return options;
    }

    /// <summary>The gateway model that selects a configuration: <c>bench-openai-windowed</c>, <c>bench-workers-unmoderated</c>, ...
    /// (bench/stream-moderation.sh configures one per protocol and mode, each with its policy).</summary>
    public static string Model(string protocol, string mode) => $"bench-{(protocol == "workers-ai" ? "workers" : "openai")}-{mode}";

    private static (string, string, IReadOnlyList<double>?) ParseEntry(string entry)
    {
        var parts = entry.Split(':');
        if (parts.Length is < 2 or > 3 || !Protocols.Contains(parts[0]) || !Modes.Contains(parts[1]))
        {
            throw new ArgumentException(
                $"--matrix takes protocol:mode[:ms[/ms...]] entries ({string.Join("|", Protocols)}:{string.Join("|", Modes)}), got '{entry}'");
        }
        return (parts[0], parts[1], parts.Length == 3 ? [.. parts[2].Split('/').Select(x => double.Parse(x, CultureInfo.InvariantCulture))] : null);
    }
}
