using System.Globalization;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;
using Bench.Common.Streams;

namespace Bench.LoadGen;

/// <summary>The streamed-moderation benchmark: paced streams through the gateway, unmoderated and under windowed,
/// buffered and prompt-only policies with a guard of fixed latency, measured side by side (bench/stream-moderation.sh).</summary>
internal static class StreamBenchmark
{
    private const string SystemPrompt = "You are a helpful assistant.";
    private const string Question = "Explain how a moderation gateway handles streamed answers.";

    /// <summary>One configuration: a protocol, a mode (<c>unmoderated</c> is the baseline) and a guard latency.</summary>
    private sealed record Config(string Protocol, string Mode, double LatencyMs)
    {
        public string Model => StreamOptions.Model(Protocol, Mode);

        public bool Baseline => Mode == "unmoderated";
    }

    /// <summary>One measured stream.</summary>
    private sealed record Sample(StreamSample Stream, GuardCalls Guard);

    /// <summary>A group of concurrent streams of one configuration: the CPU they took.</summary>
    private sealed record Group(double GatewayCpuMsPerStream, double ForeignCores);

    /// <summary>What the guard counted for one stream.</summary>
    /// <param name="Prompt">Calls that judged the prompt.</param>
    /// <param name="Response">Calls that judged the response.</param>
    /// <param name="Other">Calls of no known role.</param>
    /// <param name="Aborted">Calls the gateway gave up on.</param>
    /// <param name="MaxInFlight">The most calls of the stream at once.</param>
    /// <param name="MeanServiceMs">The guard's time per call.</param>
    /// <param name="ResponseStartsMs">When each response check reached the guard, in ms after the prompt check did.</param>
    private sealed record GuardCalls(int Prompt, int Response, int Other, int Aborted, int MaxInFlight, double? MeanServiceMs, IReadOnlyList<double> ResponseStartsMs);

    public static async Task<int> RunAsync(StreamOptions options)
    {
        var configs = Configs(options);
        var tokens = PacedText.Tokens(options.Tokens);
        var warmupTokens = PacedText.Tokens(options.WarmupTokens);
        using var client = StreamClient.CreateClient(options.Concurrency);
        using var guardClient = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var meter = new CpuMeter(new[] { options.GatewayPid, options.UpstreamPid, options.GuardPid }.OfType<int>());
        var nextId = 0L;

        async Task<Sample> OneAsync(Config config, string[] pieces)
        {
            var id = Interlocked.Increment(ref nextId);
            var (url, body) = Request(options, config, id, pieces.Length);
            var stream = await StreamClient.RunAsync(client, url, body, config.Protocol == "workers-ai", pieces, options.FirstToken, options.Interval);
            return new Sample(stream, await GuardCallsAsync(guardClient, options.Guard, id));
        }

        // One short stream per configuration first, so that a misconfiguration fails at once.
        await Console.Error.WriteLineAsync($"{configs.Count} configurations; warming up ({options.WarmupRounds} rounds of {options.WarmupTokens}-piece streams)...");
        foreach (var config in configs)
        {
            var probe = await OneAsync(config, warmupTokens);
            if (!probe.Stream.Ok)
            {
                await Console.Error.WriteLineAsync($"{Name(config)} ({config.Model}) failed: {probe.Stream.Error}");
                return 1;
            }
        }
        for (var round = 0; round < options.WarmupRounds; round++)
        {
            foreach (var config in configs)
            {
                await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => OneAsync(config, warmupTokens)));
            }
        }

        var samples = configs.ToDictionary(c => c, _ => new List<Sample>());
        var groups = configs.ToDictionary(c => c, _ => new List<Group>());
        var quiet = new List<double>();
        for (var round = 0; round < options.Rounds; round++)
        {
            quiet.Add(await meter.WaitForQuietAsync(options.MaxForeignCores, options.QuietWait));
            // Every configuration once per round, the order rotated each round, so slow drifts in the machine's load
            // spread over all of them rather than over one.
            var shift = round * configs.Count / options.Rounds;
            foreach (var config in configs.Skip(shift).Concat(configs.Take(shift)))
            {
                var before = meter.Read();
                var results = await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => OneAsync(config, tokens)));
                var usage = CpuMeter.Between(before, meter.Read());
                samples[config].AddRange(results);
                groups[config].Add(new Group((usage.Of(options.GatewayPid) ?? TimeSpan.Zero).TotalMilliseconds / options.Concurrency, usage.ForeignCores));
            }
            var line = string.Join("  ", configs.Select(c => $"{Short(c)} {Ms(samples[c][^1].Stream.TotalMs)}"));
            await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"[round {round + 1}/{options.Rounds}] others {groups.Values.Select(g => g[^1].ForeignCores).Max():F2} cores; total ms: {line}"));
        }

        var report = Report(options, configs, tokens, samples, groups, quiet);
        Console.Write(report);
        if (options.Out is { } path)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            await File.WriteAllTextAsync(path, report);
        }
        return samples.Values.Any(s => s.Any(x => !x.Stream.Ok)) ? 3 : 0;
    }

    private static List<Config> Configs(StreamOptions o)
    {
        var configs = new List<Config>();
        foreach (var protocol in o.Matrix.Select(m => m.Protocol).Distinct())
        {
            configs.Add(new Config(protocol, "unmoderated", 0));
            foreach (var (_, mode, latencies) in o.Matrix.Where(m => m.Protocol == protocol))
            {
                configs.AddRange((latencies ?? o.Latencies).Select(l => new Config(protocol, mode, l)));
            }
        }
        return configs;
    }

    private static (Uri Url, byte[] Body) Request(StreamOptions o, Config config, long id, int tokens)
    {
        // The tag tells the benchmark guard which latency to answer with and whose calls it counts (bench/GuardServer).
        var user = string.Create(CultureInfo.InvariantCulture, $"{Question} [bench stream={id} guard-ms={config.LatencyMs}]");
        var messages = new JsonArray(
            new JsonObject { ["role"] = "system", ["content"] = SystemPrompt },
            new JsonObject { ["role"] = "user", ["content"] = user });
        var body = new JsonObject { ["messages"] = messages, ["max_tokens"] = tokens, ["stream"] = true };
        if (config.Protocol == "workers-ai")
        {
            return (new Uri(o.Gateway, $"/ai/run/{config.Model}"), Encoding.UTF8.GetBytes(body.ToJsonString()));
        }
        body["model"] = config.Model;
        return (new Uri(o.Gateway, "/v1/chat/completions"), Encoding.UTF8.GetBytes(body.ToJsonString()));
    }

    private static async Task<GuardCalls> GuardCallsAsync(HttpClient client, Uri guard, long id)
    {
        var json = await client.GetFromJsonAsync<JsonObject>(new Uri(guard, $"/stats?stream={id}")) ?? [];
        int Int(string name) => json[name]?.GetValue<int>() ?? 0;
        var starts = (json["arrivals"] as JsonArray ?? []).OfType<JsonObject>()
            .Where(a => a["role"]?.GetValue<string>() == "Agent").Select(a => a["atMs"]!.GetValue<double>()).ToList();
        return new GuardCalls(Int("prompt"), Int("response"), Int("other"), Int("aborted"), Int("maxInFlight"), json["meanServiceMs"]?.GetValue<double>(), starts);
    }

    private static string Report(
        StreamOptions o, List<Config> configs, string[] tokens, Dictionary<Config, List<Sample>> samples, Dictionary<Config, List<Group>> groups,
        List<double> quiet)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');
        var chars = string.Concat(tokens).Length;
        var sentences = tokens.Count(t => t == ".");
        var foreign = groups.Values.SelectMany(g => g).Select(g => g.ForeignCores).Order().ToArray();
        var ok = samples.ToDictionary(s => s.Key, s => s.Value.Where(x => x.Stream.Ok).ToList());

        Line("### Run");
        Line();
        Line(string.Create(inv, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(o.Commit is { } c ? $", commit {c}" : "")}"));
        Line(string.Create(inv, $"- Machine: {Environment.ProcessorCount} logical cores ({Benchmark.CpuModel()}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}"));
        Line(string.Create(inv, $"- Stream: {tokens.Length} pieces ({chars} characters, {sentences} sentences) at {o.TokensPerSecond:0.##} pieces/s, the first {o.FirstToken.TotalMilliseconds:0.#} ms after the upstream got the request: {(tokens.Length - 1) * o.Interval.TotalMilliseconds + o.FirstToken.TotalMilliseconds:0} ms of generation"));
        Line(string.Create(inv, $"- Policy streaming settings: window {o.Window}, minWindow {o.MinWindow}, holdBack {o.HoldBack} characters, closeAtSentenceEnd; {o.MaxChecksInFlight} checks in flight at most"));
        Line(string.Create(inv, $"- Schedule: {o.WarmupRounds} warm-up rounds of {o.WarmupTokens}-piece streams, then {o.Rounds} rounds, each running every configuration once ({o.Concurrency} concurrent stream{(o.Concurrency == 1 ? "" : "s")} of it), in an order rotated per round; {o.Rounds * o.Concurrency} streams per configuration"));
        Line(string.Create(inv, $"- Other processes on the machine: each round waited up to {o.QuietWait.TotalSeconds:0} s for them to use at most {o.MaxForeignCores:0.##} cores (got {quiet.Min():F2} to {quiet.Max():F2}); while streams ran they used {Stats.Percentile(foreign, 0.5):F2} cores at the median, {foreign[^1]:F2} at most"));
        Line($"- Command: `{o.Command}`");
        Line();

        Line("### Time to first text, total time, guard calls");
        Line();
        Line("| Protocol | Moderation | Guard ms | TTFT p50 ms | ratio | TTFT p90 ms | ratio | Total p50 ms | ratio | Total p90 ms | ratio | Text lag p50 ms | Guard calls per stream (prompt + response) | Predicted |");
        Line("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var config in configs)
        {
            var baseline = ok[configs.First(x => x.Protocol == config.Protocol && x.Baseline)];
            var own = ok[config];
            double P(List<Sample> s, Func<StreamSample, double> value, double q) => Stats.Quantile(s.Select(x => value(x.Stream)), q);
            var predicted = StreamPrediction.For(config.Mode, config.LatencyMs, tokens, o);
            Line(string.Create(inv,
                $"| {Title(config.Protocol)} | {config.Mode} | {(config.Baseline ? "–" : config.LatencyMs.ToString("0.#", inv))} " +
                $"| {Ms(P(own, s => s.FirstTextMs, 0.5))} | {Ratio(P(own, s => s.FirstTextMs, 0.5), P(baseline, s => s.FirstTextMs, 0.5))} " +
                $"| {Ms(P(own, s => s.FirstTextMs, 0.9))} | {Ratio(P(own, s => s.FirstTextMs, 0.9), P(baseline, s => s.FirstTextMs, 0.9))} " +
                $"| {Ms(P(own, s => s.TotalMs, 0.5))} | {Ratio(P(own, s => s.TotalMs, 0.5), P(baseline, s => s.TotalMs, 0.5))} " +
                $"| {Ms(P(own, s => s.TotalMs, 0.9))} | {Ratio(P(own, s => s.TotalMs, 0.9), P(baseline, s => s.TotalMs, 0.9))} " +
                $"| {Ms(P(own, s => s.LagP50Ms, 0.5))} | {Calls(own)} | {predicted.PromptCalls} + {predicted.ResponseCalls} |"));
        }
        Line();
        Line("TTFT: time to the first event with text (not the headers). Ratios: against the unmoderated stream of the same protocol in the same run (p50 against p50, p90 against p90). Text lag: for each piece, when it arrived minus when the upstream's schedule sent it, counted from the request; the median over the pieces of a stream, then the median over the streams.");
        Line();

        Line("### Against the design's prediction");
        Line();
        Line("| Protocol | Moderation | Guard ms | TTFT p50 ms | predicted | Total p50 ms | predicted | Windows | Response checks started late, ms (p50 / last) | Guard time per call ms | Most guard calls in flight | Gateway CPU ms per stream |");
        Line("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var config in configs)
        {
            var own = ok[config];
            var predicted = StreamPrediction.For(config.Mode, config.LatencyMs, tokens, o);
            var service = own.Select(s => s.Guard.MeanServiceMs).OfType<double>().ToList();
            Line(string.Create(inv,
                $"| {Title(config.Protocol)} | {config.Mode} | {(config.Baseline ? "–" : config.LatencyMs.ToString("0.#", inv))} " +
                $"| {Ms(Stats.Quantile(own.Select(s => s.Stream.FirstTextMs), 0.5))} | {Ms(predicted.FirstTextMs)} " +
                $"| {Ms(Stats.Quantile(own.Select(s => s.Stream.TotalMs), 0.5))} | {Ms(predicted.TotalMs)} " +
                $"| {(config.Mode == "windowed" ? predicted.Windows.ToString(inv) : "–")} | {Late(own, predicted)} " +
                $"| {(service.Count > 0 ? Ms(service.Average()) : "–")} | {(own.Count > 0 ? own.Max(s => s.Guard.MaxInFlight).ToString(inv) : "–")} " +
                $"| {Ms(Stats.Quantile(groups[config].Select(g => g.GatewayCpuMsPerStream), 0.5))} |"));
        }
        Line();
        Line("Predicted: the stream filter's rules replayed on the upstream's schedule with every guard call taking exactly its latency and everything else free (bench/LoadGen/StreamPrediction.cs). Windows: windows that close before the upstream ends; the response checks are those plus one at the end when text came after the last window. Started late: when each response check reached the guard (counted from the prompt check's arrival there) minus when the prediction starts it; the median over a stream's checks and its last check, each the median over the streams: a check that waited for the upstream read, or reads that waited for checks, would make these grow with the window count and the guard latency. Guard time per call: as the guard measured it (its latency plus its own work). Gateway CPU: from /proc over each stream.");
        Line();

        if (configs.FirstOrDefault(c => c.Protocol == "openai-chat" && c.Mode == "windowed" && c.LatencyMs == 20) is { } goal
            && ok[goal].Count > 0 && ok[configs.First(c => c.Protocol == goal.Protocol && c.Baseline)] is { Count: > 0 } goalBase)
        {
            var ratio = Stats.Quantile(ok[goal].Select(s => s.Stream.TotalMs), 0.5) / Stats.Quantile(goalBase.Select(s => s.Stream.TotalMs), 0.5);
            Line(string.Create(inv, $"Goal (total time within 1.1x of unmoderated, windowed, 20 ms guard, {tokens.Length}-piece stream): {ratio:F3}x, {(ratio <= 1.1 ? "met" : "not met")}."));
            Line();
        }

        var failed = samples.Where(s => s.Value.Any(x => !x.Stream.Ok)).ToList();
        Line(failed.Count == 0
            ? "Errors: none (every stream was HTTP 200, carried every piece in order and ended with `data: [DONE]`)."
            : "Errors: " + string.Join("; ", failed.Select(f => $"{Name(f.Key)}: {f.Value.Count(x => !x.Stream.Ok)} ({f.Value.First(x => !x.Stream.Ok).Stream.Error})")));
        var untagged = samples.Values.SelectMany(s => s).Sum(s => s.Guard.Other + s.Guard.Aborted);
        if (untagged > 0)
        {
            Line();
            Line(string.Create(inv, $"Guard calls with no judged role or aborted: {untagged}."));
        }
        return md.ToString();
    }

    private static string Late(List<Sample> samples, StreamPrediction predicted)
    {
        var matched = samples.Where(s => s.Guard.ResponseStartsMs.Count == predicted.ResponseCheckStartsMs.Count && s.Guard.ResponseStartsMs.Count > 0).ToList();
        if (matched.Count == 0)
        {
            return "–";
        }
        var late = matched.Select(s => s.Guard.ResponseStartsMs.Zip(predicted.ResponseCheckStartsMs, (m, p) => m - p).ToList()).ToList();
        return $"{Ms(Stats.Quantile(late.Select(l => Stats.Quantile(l, 0.5)), 0.5))} / {Ms(Stats.Quantile(late.Select(l => l[^1]), 0.5))}";
    }

    private static string Calls(List<Sample> samples)
    {
        if (samples.Count == 0)
        {
            return "–";
        }
        static string Range(IEnumerable<int> values)
        {
            var list = values.ToList();
            return list.Min() == list.Max() ? list.Min().ToString(CultureInfo.InvariantCulture) : $"{list.Min()}–{list.Max()}";
        }
        return $"{Range(samples.Select(s => s.Guard.Prompt))} + {Range(samples.Select(s => s.Guard.Response))}";
    }

    private static string Name(Config c) => string.Create(CultureInfo.InvariantCulture, $"{c.Protocol} {c.Mode}{(c.Baseline ? "" : $" {c.LatencyMs} ms")}");

    private static string Short(Config c) => string.Create(CultureInfo.InvariantCulture,
        $"{(c.Protocol == "workers-ai" ? "wa" : "oa")}/{c.Mode switch { "unmoderated" => "none", "windowed" => "win", "buffered" => "buf", _ => "prm" }}{(c.Baseline ? "" : $"{c.LatencyMs}")}");

    private static string Title(string protocol) => protocol == "workers-ai" ? "Workers AI" : "OpenAI chat";

    private static string Ms(double ms) => double.IsNaN(ms) ? "–" : ms.ToString(ms < 10 ? "F2" : ms < 100 ? "F1" : "F0", CultureInfo.InvariantCulture);

    private static string Ratio(double value, double baseline) =>
        double.IsNaN(value) || double.IsNaN(baseline) || baseline == 0 ? "–" : (value / baseline).ToString(value / baseline < 10 ? "F3" : "F1", CultureInfo.InvariantCulture) + "×";
}
