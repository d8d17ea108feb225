using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Bench.LoadGen;

/// <summary>The proxy's own overhead, side by side with a plain YARP route and nginx in front of the same upstream:
/// at a fixed request rate (latency added over calling the upstream directly) and at saturation (throughput). Every
/// target runs in each round, in an order rotated per round, so that all see the same background load.</summary>
internal static class OverheadBenchmark
{
    private const string Direct = "direct";
    private const string Gateway = "gateway";
    private const string Yarp = "plain YARP";
    private const string Nginx = "nginx";

    /// <summary>One scenario: the same request direct to the upstream and through each proxy.</summary>
    private sealed record Case(string Name, string Title, IReadOnlyList<(string Side, Target Target)> Sides);

    /// <summary>What one mode measured for one side of one scenario.</summary>
    private sealed record Measured(Case Case, string Side, RunResult Result);

    public static async Task<int> RunAsync(OverheadOptions options)
    {
        var o = options.Servers;
        var cases = Cases(o).Where(c => options.Scenarios.Contains(c.Name)).ToList();

        using (var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            var buffer = new byte[64 * 1024];
            foreach (var (c, (side, target)) in cases.SelectMany(c => c.Sides.Select(s => (c, s))))
            {
                var (ok, error, _) = await LoadRunner.SendAsync(probe, target, stream: false, buffer);
                if (!ok)
                {
                    await Console.Error.WriteLineAsync($"{c.Name} ({side}, POST {target.Url}) failed: {error}");
                    return 1;
                }
            }
        }

        var meter = new CpuMeter(new[] { o.UpstreamPid, o.GatewayWorkersAiPid, o.GatewayOpenAiPid }.OfType<int>().Concat(o.NginxPids));
        if (options.Prime > TimeSpan.Zero)
        {
            await Console.Error.WriteLineAsync($"priming every target for {options.Prime.TotalSeconds:0.#} s...");
            foreach (var (_, target) in cases.SelectMany(c => c.Sides))
            {
                using var client = LoadRunner.CreateClient(options.Connections);
                await LoadRunner.RunAsync(client, target, false, options.Connections, TimeSpan.Zero, options.Prime, o.UpstreamPid, meter);
            }
        }

        var latency = new List<Measured>();
        var saturation = new List<Measured>();
        foreach (var c in cases)
        {
            if (options.Modes.Contains("latency"))
            {
                latency.AddRange(await RoundsAsync(options, c, meter, "fixed rate", options.Clients, options.LatencyDuration, (client, target, slice) =>
                    RateRunner.RunAsync(client, target, options.Clients, options.Rate, options.Warmup, slice, o.UpstreamPid, meter)));
            }
            if (options.Modes.Contains("saturation"))
            {
                saturation.AddRange(await RoundsAsync(options, c, meter, "saturation", options.Connections, options.SaturationDuration, (client, target, slice) =>
                    LoadRunner.RunAsync(client, target, false, options.Connections, options.Warmup, slice, o.UpstreamPid, meter)));
            }
        }

        var report = Report(options, latency, saturation);
        Console.Write(report);
        if (o.Out is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, report);
        }
        return latency.Concat(saturation).Any(m => m.Result.Errors > 0) ? 3 : 0;
    }

    private static async Task<List<Measured>> RoundsAsync(
        OverheadOptions options, Case c, CpuMeter meter, string mode, int connections, TimeSpan duration,
        Func<HttpClient, Target, TimeSpan, Task<RunResult>> run)
    {
        var o = options.Servers;
        await meter.WaitForQuietAsync(o.MaxForeignCores, o.QuietWait);
        var clients = c.Sides.ToDictionary(s => s.Side, _ => LoadRunner.CreateClient(connections));
        var slices = c.Sides.ToDictionary(s => s.Side, _ => new List<RunResult>());
        var slice = duration / options.Rounds;
        try
        {
            for (var round = 0; round < options.Rounds; round++)
            {
                for (var i = 0; i < c.Sides.Count; i++)
                {
                    var (side, target) = c.Sides[(i + round) % c.Sides.Count];
                    slices[side].Add(await run(clients[side], target, slice));
                }
            }
        }
        finally
        {
            foreach (var client in clients.Values)
            {
                client.Dispose();
            }
        }
        var measured = c.Sides.Select(s => new Measured(c, s.Side, RunResult.Combine(slices[s.Side]))).ToList();
        foreach (var m in measured)
        {
            var r = m.Result;
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{mode,-10} {c.Name,-12} {m.Side,-10} {r.RequestsPerSecond,8:F0} req/s  p50 {RunResult.Percentile(r.Latency, 0.5),7:F3} ms  p99 {RunResult.Percentile(r.Latency, 0.99),7:F3} ms  errors {r.Errors}  others {r.ForeignCores:F2} cores"));
            if (r.FirstError is { } error)
            {
                await Console.Error.WriteLineAsync("    first error: " + error);
            }
        }
        return measured;
    }

    private static List<Case> Cases(Options o)
    {
        var upstream = o.UpstreamPid;
        var chat = "/v1/chat/completions";
        var rest = $"/client/v4/accounts/bench-account/ai/run/{Scenarios.Model}";
        var openAi = Scenarios.OpenAi(false);
        var workersAi = Scenarios.WorkersAi(false);
        Target? NginxTarget(string path, byte[] body) =>
            o.Nginx is { } n ? new Target(new Uri(n, path), body, (o.NginxPids.Count > 0 ? o.NginxPids[0] : null), [.. o.NginxPids.Skip(1)]) : null;
        List<(string, Target)> Sides(Target direct, Target gateway, Target yarp, Target? nginx) =>
            nginx is null ? [(Direct, direct), (Gateway, gateway), (Yarp, yarp)] : [(Direct, direct), (Gateway, gateway), (Yarp, yarp), (Nginx, nginx)];
        return
        [
            new("openai-chat", "OpenAI chat (`POST /v1/chat/completions`), upstream `Kind=OpenAi`", Sides(
                new Target(new Uri(o.Upstream, chat), openAi, upstream),
                new Target(new Uri(o.GatewayOpenAi, chat), openAi, o.GatewayOpenAiPid),
                new Target(new Uri(o.GatewayOpenAi, "/yarp" + chat), openAi, o.GatewayOpenAiPid),
                NginxTarget(chat, openAi))),
            new("workers-ai", $"Workers AI (`POST /ai/run/{Scenarios.Model}`), upstream `Kind=WorkersAi`", Sides(
                new Target(new Uri(o.Upstream, rest), workersAi, upstream),
                new Target(new Uri(o.GatewayWorkersAi, $"/ai/run/{Scenarios.Model}"), workersAi, o.GatewayWorkersAiPid),
                new Target(new Uri(o.GatewayWorkersAi, "/yarp" + rest), workersAi, o.GatewayWorkersAiPid),
                NginxTarget(rest, workersAi))),
        ];
    }

    private static string Report(OverheadOptions options, List<Measured> latency, List<Measured> saturation)
    {
        var inv = CultureInfo.InvariantCulture;
        var o = options.Servers;
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');
        var all = latency.Concat(saturation).ToList();
        var foreign = all.Select(m => m.Result.ForeignCores).DefaultIfEmpty(0).ToList();

        Line("### Run");
        Line();
        Line(string.Create(inv, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(o.Commit is { } commit ? $", commit {commit}" : "")}"));
        Line(string.Create(inv, $"- Machine: {Environment.ProcessorCount} logical cores ({Benchmark.CpuModel()}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}"));
        Line(string.Create(inv, $"- Fixed rate: {options.Clients} clients × {options.Rate:0.#} req/s, one kept-alive connection each, {options.LatencyDuration.TotalSeconds:0.#} s measured per target; saturation: closed loop on {options.Connections} connections, {options.SaturationDuration.TotalSeconds:0.#} s measured per target"));
        Line(string.Create(inv, $"- Every target primed for {options.Prime.TotalSeconds:0.#} s; measured time split into {options.Rounds} rounds, each running every target once ({options.Warmup.TotalSeconds:0.#} s unmeasured load first) in an order rotated per round"));
        Line("- Load generator, proxies and upstream share the same cores: compare the ratios and differences, not the absolute numbers");
        Line(string.Create(inv, $"- Other processes on the machine: each scenario and mode waits up to {o.QuietWait.TotalSeconds:0} s for them to use at most {o.MaxForeignCores:0.##} cores; while measuring they used {foreign.Min():F2} to {foreign.Max():F2} cores{(foreign.Any(f => f > o.MaxForeignCores) ? $" (rows marked † saw more than {o.MaxForeignCores:0.##})" : "")}"));
        Line($"- Command: `{o.Command}`");
        Line();
        string Mark(RunResult r) => r.ForeignCores > o.MaxForeignCores ? " †" : "";
        string Cpu(RunResult r) => r.CpuPerRequestUs(r.ServerCpu) is { } us ? us.ToString("F0", inv) : "–";

        if (latency.Count > 0)
        {
            Line(string.Create(inv, $"### Fixed rate ({options.Clients} × {options.Rate:0.#} req/s): latency added over calling the upstream directly"));
            Line();
            Line("| Scenario | Target | p50 ms | p99 ms | added p50 ms | added p99 ms | server CPU µs per request |");
            Line("|---|---|---:|---:|---:|---:|---:|");
            foreach (var group in latency.GroupBy(m => m.Case))
            {
                var direct = group.First(m => m.Side == Direct).Result;
                var (d50, d99) = (RunResult.Percentile(direct.Latency, 0.5), RunResult.Percentile(direct.Latency, 0.99));
                foreach (var m in group)
                {
                    var (p50, p99) = (RunResult.Percentile(m.Result.Latency, 0.5), RunResult.Percentile(m.Result.Latency, 0.99));
                    var added = m.Side == Direct ? "| – | – " : string.Create(inv, $"| {p50 - d50:F3} | {p99 - d99:F3} ");
                    Line(string.Create(inv, $"| {group.Key.Title}{Mark(m.Result)} | {m.Side} | {p50:F3} | {p99:F3} {added}| {Cpu(m.Result)} |"));
                }
            }
            Line();
            Line("Server CPU is the upstream's for the direct calls and the proxy's (every process of it) otherwise.");
            Line();
        }

        if (saturation.Count > 0)
        {
            Line($"### Saturation ({options.Connections} connections, closed loop): throughput");
            Line();
            Line("| Scenario | Target | req/s | / direct | gateway / target | server CPU µs per request | upstream CPU µs per request |");
            Line("|---|---|---:|---:|---:|---:|---:|");
            foreach (var group in saturation.GroupBy(m => m.Case))
            {
                var direct = group.First(m => m.Side == Direct).Result.RequestsPerSecond;
                var gateway = group.First(m => m.Side == Gateway).Result.RequestsPerSecond;
                foreach (var m in group)
                {
                    var r = m.Result;
                    var upstreamCpu = m.Side == Direct ? r.CpuPerRequestUs(r.ServerCpu) : r.CpuPerRequestUs(r.UpstreamCpu);
                    var versus = m.Side is Direct or Gateway ? "–" : (gateway / r.RequestsPerSecond).ToString("F2", inv) + "×";
                    Line(string.Create(inv,
                        $"| {group.Key.Title}{Mark(r)} | {m.Side} | {r.RequestsPerSecond:F0} | {r.RequestsPerSecond / direct:F2}× | {versus} | {(m.Side == Direct ? "–" : Cpu(r))} | {(upstreamCpu is { } u ? u.ToString("F0", inv) : "–")} |"));
                }
            }
            Line();
            Line("\"gateway / target\" is the gateway's throughput as a share of that proxy's: the goal is at least 0.9× the plain YARP route's and 0.5× nginx's.");
            Line();
        }

        var failed = all.Where(m => m.Result.Errors > 0).ToList();
        Line(failed.Count == 0
            ? "Errors: none (every counted response was HTTP 200 with a body)."
            : "Errors: " + string.Join("; ", failed.Select(m => string.Create(inv, $"{m.Case.Name} {m.Side}: {m.Result.Errors} ({m.Result.FirstError})"))));
        return md.ToString();
    }
}
