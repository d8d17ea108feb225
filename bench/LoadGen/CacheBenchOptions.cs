using System.Globalization;

namespace Bench.LoadGen;

/// <summary>Options of <c>cache</c>, the verdict-cache benchmark (bench/cache.sh).</summary>
internal sealed class CacheBenchOptions
{
    /// <summary>The gateway with Redis: misses, L1 hits, the unmoderated baseline, and the writer of the L2 hits.</summary>
    public required Uri Gateway { get; init; }

    /// <summary>A second gateway on the same Redis: it reads what <see cref="Gateway"/> wrote (L2 hits).</summary>
    public required Uri Peer { get; init; }

    /// <summary>A gateway with <c>Cache:Verdicts=false</c>: every check calls the guard.</summary>
    public required Uri CacheOff { get; init; }

    /// <summary>A gateway whose Redis the benchmark kills.</summary>
    public required Uri Down { get; init; }

    /// <summary>A gateway whose Redis the benchmark pauses (SIGSTOP).</summary>
    public required Uri Paused { get; init; }

    /// <summary>The shared Redis (<c>host:port</c>), asked for its key count while L2 entries are written.</summary>
    public required string Redis { get; init; }

    public required int RedisDownPid { get; init; }

    public required int RedisPausedPid { get; init; }

    /// <summary>The benchmark's own processes, for the CPU meter (not counted as other processes).</summary>
    public IReadOnlyList<int> Pids { get; init; } = [];

    /// <summary>Fixed guard latencies, in ms.</summary>
    public IReadOnlyList<double> Latencies { get; init; } = [0, 20];

    /// <summary>Measured rounds: each runs every configuration once, in an order rotated per round.</summary>
    public int Rounds { get; init; } = 20;

    /// <summary>Requests per configuration and round (one at a time).</summary>
    public int Samples { get; init; } = 40;

    /// <summary>Requests per gateway and configuration before measuring (JIT, connections).</summary>
    public int Warmup { get; init; } = 200;

    /// <summary>The gateways' <c>Cache:RedisRetryInterval</c>.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The gateways' <c>Cache:RedisTimeout</c> (for the report).</summary>
    public TimeSpan RedisTimeout { get; init; } = TimeSpan.FromMilliseconds(250);

    public double MaxForeignCores { get; init; } = 0.2;

    public TimeSpan QuietWait { get; init; } = TimeSpan.FromSeconds(3);

    public string? Out { get; init; }

    public string Command { get; init; } = "./bench/cache.sh";

    public string? Commit { get; init; }

    public static CacheBenchOptions Parse(IReadOnlyList<string> args)
    {
        var values = Options.Pairs(args);
        string Required(string name) => values.Remove(name, out var v) ? v : throw new ArgumentException($"--{name} is required");
        string? Optional(string name) => values.Remove(name, out var v) && v.Length > 0 ? v : null;
        static int Int(string v) => int.Parse(v, CultureInfo.InvariantCulture);
        static double Number(string v) => double.Parse(v, CultureInfo.InvariantCulture);
        static string[] List(string? v) => v?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

        var defaults = new CacheBenchOptions
        {
            Gateway = new Uri("http://127.0.0.1"),
            Peer = new Uri("http://127.0.0.1"),
            CacheOff = new Uri("http://127.0.0.1"),
            Down = new Uri("http://127.0.0.1"),
            Paused = new Uri("http://127.0.0.1"),
            Redis = "",
            RedisDownPid = 0,
            RedisPausedPid = 0,
        };
        var options = new CacheBenchOptions
        {
            Gateway = new Uri(Required("gateway")),
            Peer = new Uri(Required("peer")),
            CacheOff = new Uri(Required("cache-off")),
            Down = new Uri(Required("down")),
            Paused = new Uri(Required("paused")),
            Redis = Required("redis"),
            RedisDownPid = Int(Required("redis-down-pid")),
            RedisPausedPid = Int(Required("redis-paused-pid")),
            Pids = [.. List(Optional("pids")).Select(Int)],
            Latencies = Optional("latencies") is { } l ? [.. List(l).Select(Number)] : defaults.Latencies,
            Rounds = Optional("rounds") is { } r ? Int(r) : defaults.Rounds,
            Samples = Optional("samples") is { } s ? Int(s) : defaults.Samples,
            Warmup = Optional("warmup") is { } w ? Int(w) : defaults.Warmup,
            RetryInterval = Optional("retry-interval") is { } ri ? TimeSpan.FromSeconds(Number(ri)) : defaults.RetryInterval,
            RedisTimeout = Optional("redis-timeout") is { } rt ? TimeSpan.FromSeconds(Number(rt)) : defaults.RedisTimeout,
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
        if (options.Rounds < 1 || options.Samples < 1 || options.Warmup < 0 || options.Latencies.Count == 0 || options.Latencies.Any(x => x < 0)
            || options.RetryInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("--rounds, --samples and --retry-interval must be positive, --warmup and --latencies not negative");
        }
        return options;
    }
}
