using System.Globalization;

namespace Bench.LoadGen;

/// <summary>Options of <c>overhead</c>: the proxy's own cost against a plain YARP route and nginx, at a fixed request
/// rate (latency added over calling the upstream directly) and at saturation (throughput).</summary>
internal sealed class OverheadOptions
{
    /// <summary>The scenarios <c>overhead</c> knows.</summary>
    public static readonly string[] Known = ["openai-chat", "workers-ai"];

    public required Options Servers { get; init; }

    /// <summary>Scenario names to run.</summary>
    public IReadOnlyList<string> Scenarios { get; init; } = Known;

    /// <summary>Clients of the fixed-rate mode, each on its own connection.</summary>
    public int Clients { get; init; } = 4;

    /// <summary>Requests per second each client sends, on a fixed schedule.</summary>
    public double Rate { get; init; } = 100;

    /// <summary>Measured time per target in the fixed-rate mode (split into <see cref="Rounds"/> slices).</summary>
    public TimeSpan LatencyDuration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Closed-loop connections of the saturation mode.</summary>
    public int Connections { get; init; } = 16;

    /// <summary>Measured time per target in the saturation mode (split into <see cref="Rounds"/> slices).</summary>
    public TimeSpan SaturationDuration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Slices per target and mode; each round runs every target once, in an order rotated per round.</summary>
    public int Rounds { get; init; } = 5;

    /// <summary>Unmeasured load per target before each slice.</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Load on every target once before anything is measured (JIT tiering, connection pools).</summary>
    public TimeSpan Prime { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Which modes run: <c>latency</c>, <c>saturation</c>.</summary>
    public IReadOnlyList<string> Modes { get; init; } = ["latency", "saturation"];

    public static OverheadOptions Parse(IReadOnlyList<string> args)
    {
        var values = Options.Pairs(args);
        string? Take(string name) => values.Remove(name, out var v) && v.Length > 0 ? v : null;
        static double Number(string? v, double fallback) => v is null ? fallback : double.Parse(v, CultureInfo.InvariantCulture);
        static string[] List(string? v) => v?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

        var scenarios = Take("scenarios") is { } s && s != "all" ? List(s) : Known;
        var modes = Take("modes") is { } m && m != "all" ? List(m) : ["latency", "saturation"];
        var options = new OverheadOptions
        {
            Scenarios = scenarios,
            Modes = modes,
            Clients = (int)Number(Take("clients"), 4),
            Rate = Number(Take("rate"), 100),
            LatencyDuration = TimeSpan.FromSeconds(Number(Take("latency-duration"), 20)),
            Connections = (int)Number(Take("saturation-connections"), 16),
            SaturationDuration = TimeSpan.FromSeconds(Number(Take("saturation-duration"), 10)),
            Rounds = (int)Number(Take("rounds"), 5),
            Warmup = TimeSpan.FromSeconds(Number(Take("warmup"), 0.5)),
            Prime = TimeSpan.FromSeconds(Number(Take("prime"), 3)),
            // The rest (servers, quiet wait, report) are the options of `run`.
            Servers = Options.Parse([.. values.Select(p => $"--{p.Key}={p.Value}")]),
        };
        if (scenarios.Except(Known).ToList() is { Count: > 0 } unknown)
        {
            throw new ArgumentException($"unknown scenario(s) {string.Join(", ", unknown)}; known: {string.Join(", ", Known)}");
        }
        if (modes.Except(["latency", "saturation"]).Any())
        {
            throw new ArgumentException("--modes takes latency, saturation or both");
        }
        if (options.Clients < 1 || options.Rate <= 0 || options.Connections < 1 || options.Rounds < 1)
        {
            throw new ArgumentException("--clients, --rate, --saturation-connections and --rounds must be positive");
        }
        return options;
    }
}
