using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Bench.LoadGen;

/// <summary>Runs every scenario at every connection count, direct then through the gateway, and writes the report.</summary>
internal static class Benchmark
{
    public static async Task<int> RunAsync(Options options)
    {
        var scenarios = Scenarios.All(options);
        if (options.Scenarios.Count > 0)
        {
            var unknown = options.Scenarios.Except(scenarios.Select(s => s.Name)).ToList();
            if (unknown.Count > 0)
            {
                throw new ArgumentException($"unknown scenario(s) {string.Join(", ", unknown)}; known: {string.Join(", ", scenarios.Select(s => s.Name))}");
            }
            scenarios = [.. scenarios.Where(s => options.Scenarios.Contains(s.Name))];
        }

        // One request each way first, so a misconfiguration fails in a second rather than after minutes of errors.
        using (var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            var buffer = new byte[64 * 1024];
            foreach (var scenario in scenarios)
            {
                foreach (var (side, target) in new[] { ("direct", scenario.Direct), ("gateway", scenario.Gateway) })
                {
                    var (ok, error, _) = await LoadRunner.SendAsync(probe, target, scenario.Stream, buffer);
                    if (!ok)
                    {
                        await Console.Error.WriteLineAsync($"{scenario.Name} ({side}, POST {target.Url}) failed: {error}");
                        return 1;
                    }
                }
            }
        }

        var meter = new CpuMeter(new[] { options.UpstreamPid, options.GatewayWorkersAiPid, options.GatewayOpenAiPid }.OfType<int>().Concat(options.NginxPids));

        // Prime every code path (JIT tiering, connection pools) before the first measured run.
        if (options.Prime > TimeSpan.Zero)
        {
            await Console.Error.WriteLineAsync($"priming every scenario for {options.Prime.TotalSeconds:0.#} s each way...");
            foreach (var scenario in scenarios)
            {
                foreach (var target in new[] { scenario.Direct, scenario.Gateway })
                {
                    using var client = LoadRunner.CreateClient(options.Connections.Max());
                    await LoadRunner.RunAsync(client, target, scenario.Stream, options.Connections.Max(), TimeSpan.Zero, options.Prime, options.UpstreamPid, meter);
                }
            }
        }

        // Other processes may share the machine. Each row waits (briefly) for a quiet machine, then alternates direct
        // and gateway slices (D G D G ...) on kept-alive connections, so that both sides see the same background load.
        var rows = new List<Row>();
        var total = scenarios.Count * options.Connections.Count;
        var done = 0;
        var slice = options.Duration / options.Rounds;
        foreach (var scenario in scenarios)
        {
            foreach (var connections in options.Connections)
            {
                done++;
                await meter.WaitForQuietAsync(options.MaxForeignCores, options.QuietWait);
                using var directClient = LoadRunner.CreateClient(connections);
                using var gatewayClient = LoadRunner.CreateClient(connections);
                var direct = new List<RunResult>();
                var gateway = new List<RunResult>();
                for (var round = 0; round < options.Rounds; round++)
                {
                    var warmup = round == 0 ? options.Warmup : Rewarm;
                    direct.Add(await LoadRunner.RunAsync(directClient, scenario.Direct, scenario.Stream, connections, warmup, slice, options.UpstreamPid, meter));
                    gateway.Add(await LoadRunner.RunAsync(gatewayClient, scenario.Gateway, scenario.Stream, connections, warmup, slice, options.UpstreamPid, meter));
                }
                var row = new Row(scenario, connections, RunResult.Combine(direct), RunResult.Combine(gateway));
                await Progress(row, done, total);
                rows.Add(row);
            }
        }

        var report = Report(options, rows);
        Console.Write(report);
        if (options.Out is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, report);
        }
        return rows.Any(r => r.Direct.Errors > 0 || r.Gateway.Errors > 0) ? 3 : 0;
    }

    // Load before each later slice, before measuring: the loop refills after the other side's slice.
    private static readonly TimeSpan Rewarm = TimeSpan.FromMilliseconds(250);

    private static async Task Progress(Row row, int index, int total)
    {
        foreach (var (side, result) in new[] { ("direct", row.Direct), ("gateway", row.Gateway) })
        {
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"[{index}/{total}] {row.Scenario.Name,-28} c={row.Connections,-3} {side,-7} {result.RequestsPerSecond,9:F0} req/s  p50 {Ms(RunResult.Percentile(result.Latency, 0.50)),7} ms  p99 {Ms(RunResult.Percentile(result.Latency, 0.99)),7} ms  errors {result.Errors}  others {result.ForeignCores:F2} cores"));
            if (result.FirstError is { } error)
            {
                await Console.Error.WriteLineAsync("    first error: " + error);
            }
        }
    }

    private sealed record Row(Scenario Scenario, int Connections, RunResult Direct, RunResult Gateway)
    {
        /// <summary>The larger of the two runs' CPU use by other processes, in cores.</summary>
        public double ForeignCores => Math.Max(Direct.ForeignCores, Gateway.ForeignCores);
    }

    private static string Report(Options options, IReadOnlyList<Row> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');

        Line("### Run");
        Line();
        Line(string.Create(inv, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(options.Commit is { } c ? $", commit {c}" : "")}"));
        Line(string.Create(inv, $"- Machine: {Environment.ProcessorCount} logical cores ({CpuModel()}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}"));
        Line(string.Create(inv, $"- Load: closed loop, HTTP/1.1 keep-alive, {string.Join("/", options.Connections)} connections; every scenario primed for {options.Prime.TotalSeconds:0.#} s each way at the start; then per row and side {options.Warmup.TotalSeconds:0.#} s warm-up and {options.Duration.TotalSeconds:0.#} s measured, in {options.Rounds} alternating slices (direct, gateway, direct, ...) on kept-alive connections"));
        Line("- Load generator, gateway and upstream share the same cores: compare the ratios, not the absolute numbers");
        Line(string.Create(inv, $"- Other processes on the machine: each row waits up to {options.QuietWait.TotalSeconds:0} s for them to use at most {options.MaxForeignCores:0.##} cores; while measuring they used {rows.Min(r => r.ForeignCores):F2} to {rows.Max(r => r.ForeignCores):F2} cores{(rows.Any(r => r.ForeignCores > options.MaxForeignCores) ? $" (rows marked † saw more than {options.MaxForeignCores:0.##})" : "")}"));
        Line($"- Command: `{options.Command}`");
        Line();

        Line("### Throughput and latency (request start to last byte)");
        Line();
        Line("| Scenario | Conns | req/s direct | req/s gateway | ratio | p50 ms direct | p50 ms gateway | ratio | p99 ms direct | p99 ms gateway | ratio |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            double P(RunResult x, double q) => RunResult.Percentile(x.Latency, q);
            Line(string.Create(inv,
                $"| {r.Scenario.Title}{Mark(r)} | {r.Connections} | {r.Direct.RequestsPerSecond:F0} | {r.Gateway.RequestsPerSecond:F0} | {Ratio(r.Gateway.RequestsPerSecond, r.Direct.RequestsPerSecond)} " +
                $"| {Ms(P(r.Direct, 0.5))} | {Ms(P(r.Gateway, 0.5))} | {Ratio(P(r.Gateway, 0.5), P(r.Direct, 0.5))} " +
                $"| {Ms(P(r.Direct, 0.99))} | {Ms(P(r.Gateway, 0.99))} | {Ratio(P(r.Gateway, 0.99), P(r.Direct, 0.99))} |"));
        }
        Line();
        Line("Ratios are gateway / direct: below 1 for req/s and above 1 for latency mean overhead.");
        Line();

        var streams = rows.Where(r => r.Scenario.Stream).ToList();
        if (streams.Count > 0)
        {
            Line("### Streams: time to first body byte");
            Line();
            Line("| Scenario | Conns | p50 ms direct | p50 ms gateway | ratio | p99 ms direct | p99 ms gateway | ratio |");
            Line("|---|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in streams)
            {
                double P(RunResult x, double q) => RunResult.Percentile(x.FirstByte, q);
                Line(string.Create(inv,
                    $"| {r.Scenario.Title}{Mark(r)} | {r.Connections} | {Ms(P(r.Direct, 0.5))} | {Ms(P(r.Gateway, 0.5))} | {Ratio(P(r.Gateway, 0.5), P(r.Direct, 0.5))} " +
                    $"| {Ms(P(r.Direct, 0.99))} | {Ms(P(r.Gateway, 0.99))} | {Ratio(P(r.Gateway, 0.99), P(r.Direct, 0.99))} |"));
            }
            Line();
        }

        if (rows.Any(r => r.Direct.ServerCpu is not null && r.Gateway.ServerCpu is not null))
        {
            Line("### CPU time per request (µs, from /proc over the measured window)");
            Line();
            Line("| Scenario | Conns | upstream, direct | upstream, via gateway | gateway | gateway / upstream | load generator, direct | load generator, via gateway | other processes (cores), direct / gateway |");
            Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var r in rows)
            {
                var upstreamDirect = r.Direct.CpuPerRequestUs(r.Direct.ServerCpu);
                var upstreamVia = r.Gateway.CpuPerRequestUs(r.Gateway.UpstreamCpu);
                var gateway = r.Gateway.CpuPerRequestUs(r.Gateway.ServerCpu);
                Line(string.Create(inv,
                    $"| {r.Scenario.Title}{Mark(r)} | {r.Connections} | {Us(upstreamDirect)} | {Us(upstreamVia)} | {Us(gateway)} | {Ratio(gateway ?? double.NaN, upstreamDirect ?? double.NaN)} " +
                    $"| {Us(r.Direct.CpuPerRequestUs(r.Direct.SelfCpu))} | {Us(r.Gateway.CpuPerRequestUs(r.Gateway.SelfCpu))} | {r.Direct.ForeignCores:F2} / {r.Gateway.ForeignCores:F2} |"));
            }
            Line();
        }

        string Mark(Row r) => r.ForeignCores > options.MaxForeignCores ? " †" : "";

        var failed = rows.SelectMany(r => new[] { (r, "direct", r.Direct), (r, "gateway", r.Gateway) }).Where(x => x.Item3.Errors > 0).ToList();
        Line(failed.Count == 0
            ? "Errors: none (every counted response was HTTP 200 with a body; every stream ended with `data: [DONE]`)."
            : "Errors: " + string.Join("; ", failed.Select(x => string.Create(inv, $"{x.r.Scenario.Name} c={x.r.Connections} {x.Item2}: {x.Item3.Errors} ({x.Item3.FirstError})"))));
        return md.ToString();
    }

    private static string Ms(double ms) => double.IsNaN(ms) ? "–" : ms.ToString(ms < 1 ? "F3" : ms < 10 ? "F2" : "F1", CultureInfo.InvariantCulture);

    private static string Us(double? us) => us is { } v ? v.ToString("F0", CultureInfo.InvariantCulture) : "–";

    private static string Ratio(double value, double baseline) =>
        double.IsNaN(value) || double.IsNaN(baseline) || baseline == 0 ? "–" : (value / baseline).ToString("F2", CultureInfo.InvariantCulture) + "×";

    internal static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? RuntimeInformation.ProcessArchitecture.ToString() : line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
        }
        catch (IOException)
        {
            return RuntimeInformation.ProcessArchitecture.ToString();
        }
    }
}
