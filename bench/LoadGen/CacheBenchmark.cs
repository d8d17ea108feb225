using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json.Nodes;

namespace Bench.LoadGen;

/// <summary>The verdict-cache benchmark (bench/cache.sh): one prompt check at a time through gateways that differ only
/// in their cache, side by side in one run: the guard called with the cache off, a miss, an L1 hit, an L2 hit (written
/// by another gateway), and checks while Redis is killed or paused, within the retry interval (Redis skipped) and the
/// first one after it (Redis tried), against a guard of fixed latency.</summary>
internal static class CacheBenchmark
{
    private const string Moderated = "bench-moderated";
    private const string Unmoderated = "bench-unmoderated";

    private enum Kind
    {
        Unmoderated,
        CacheOff,
        Miss,
        L1Hit,
        L2Hit,
        KilledSkipped,
        KilledRetry,
        PausedSkipped,
        PausedRetry,
    }

    /// <summary>One row: a kind at a guard latency (hits and the unmoderated baseline call no guard: latency null).</summary>
    private sealed record Config(Kind Kind, double? LatencyMs);

    private sealed class Row
    {
        public List<double> Ms { get; } = [];

        public int Errors { get; set; }

        public string? FirstError { get; set; }
    }

    public static async Task<int> RunAsync(CacheBenchOptions o)
    {
        using var client = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            MaxConnectionsPerServer = 1,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        })
        { Timeout = TimeSpan.FromSeconds(30) };
        var meter = new CpuMeter(o.Pids);
        var rows = new Dictionary<Config, Row>();
        var next = 0L;
        var lastFailure = new Dictionary<Uri, long>();

        Row RowOf(Config config)
        {
            if (!rows.TryGetValue(config, out var row))
            {
                rows[config] = row = new Row();
            }
            return row;
        }

        string Prompt(string what, double latency) => string.Create(CultureInfo.InvariantCulture,
            $"Is this message fine to answer? It is check {Interlocked.Increment(ref next)} ({what}). [bench stream=1 guard-ms={latency}]");

        // One request; null for an unmeasured one, else its time, counted into `row` when given.
        async Task<double> OneAsync(Uri gateway, string model, string prompt, string? expectedCache, Row? row)
        {
            var (ms, error) = await SendAsync(client, gateway, model, prompt, expectedCache);
            if (row is null)
            {
                return error is null ? ms : throw new InvalidOperationException($"{gateway}: {error}");
            }
            if (error is null)
            {
                row.Ms.Add(ms);
            }
            else
            {
                row.Errors++;
                row.FirstError ??= error;
            }
            return ms;
        }

        // An L2 hit: a prompt written by the first gateway (Redis written after it answered: wait for the key), read
        // by the second, which never saw it.
        async Task L2Async(int count, Row? row)
        {
            var prompts = Enumerable.Range(0, count).Select(_ => Prompt("written by another gateway", 0)).ToList();
            var before = await DbSizeAsync(o.Redis);
            foreach (var prompt in prompts)
            {
                await OneAsync(o.Gateway, Moderated, prompt, "miss", null);
            }
            var deadline = Stopwatch.StartNew();
            while (await DbSizeAsync(o.Redis) < before + count)
            {
                if (deadline.Elapsed > TimeSpan.FromSeconds(10))
                {
                    throw new InvalidOperationException("the first gateway's entries did not reach Redis");
                }
                await Task.Delay(5);
            }
            foreach (var prompt in prompts)
            {
                await OneAsync(o.Peer, Moderated, prompt, "hit", row);
            }
        }

        // A gateway whose Redis is gone: once the retry interval has passed since its last failure, the first check
        // tries Redis again (and fails); the checks right after it skip Redis, for half the interval at most.
        async Task FaultAsync(Uri gateway, double latency, Row? retry, Row? skipped, int count)
        {
            var wait = lastFailure.TryGetValue(gateway, out var at)
                ? o.RetryInterval * 1.05 - Stopwatch.GetElapsedTime(at)
                : TimeSpan.Zero;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }
            await OneAsync(gateway, Moderated, Prompt("Redis tried again", latency), "miss", retry);
            var failed = Stopwatch.GetTimestamp();
            lastFailure[gateway] = failed;
            for (var i = 0; i < count && Stopwatch.GetElapsedTime(failed) < o.RetryInterval / 2; i++)
            {
                await OneAsync(gateway, Moderated, Prompt("Redis skipped", latency), "miss", skipped);
            }
        }

        async Task BlockAsync(Config config, int count, bool measured)
        {
            var row = measured ? RowOf(config) : null;
            var latency = config.LatencyMs ?? 0;
            switch (config.Kind)
            {
                case Kind.Unmoderated:
                    for (var i = 0; i < count; i++)
                    {
                        await OneAsync(o.Gateway, Unmoderated, Prompt("not checked", 0), null, row);
                    }
                    break;
                case Kind.CacheOff:
                    for (var i = 0; i < count; i++)
                    {
                        await OneAsync(o.CacheOff, Moderated, Prompt("cache off", latency), null, row);
                    }
                    break;
                case Kind.Miss:
                    for (var i = 0; i < count; i++)
                    {
                        await OneAsync(o.Gateway, Moderated, Prompt("new", latency), "miss", row);
                    }
                    break;
                case Kind.L1Hit:
                    var repeated = Prompt("repeated", 0);
                    await OneAsync(o.Gateway, Moderated, repeated, "miss", null);
                    for (var i = 0; i < count; i++)
                    {
                        await OneAsync(o.Gateway, Moderated, repeated, "hit", row);
                    }
                    break;
                case Kind.L2Hit:
                    await L2Async(count, row);
                    break;
                case Kind.KilledRetry:
                    await FaultAsync(o.Down, latency, row, measured ? RowOf(config with { Kind = Kind.KilledSkipped }) : null, count);
                    break;
                case Kind.PausedRetry:
                    await FaultAsync(o.Paused, latency, row, measured ? RowOf(config with { Kind = Kind.PausedSkipped }) : null, count);
                    break;
                default:
                    throw new InvalidOperationException($"{config.Kind} is measured with its retry block");
            }
        }

        // Blocks: the baseline and the hits once, then per latency the guard call, the miss and the two faults (each
        // fault block measures its first check after the retry interval and the skipped ones after it).
        var blocks = new List<Config> { new(Kind.Unmoderated, null), new(Kind.L1Hit, null), new(Kind.L2Hit, null) };
        foreach (var latency in o.Latencies)
        {
            blocks.AddRange([new(Kind.CacheOff, latency), new(Kind.Miss, latency), new(Kind.KilledRetry, latency), new(Kind.PausedRetry, latency)]);
        }

        try
        {
            await Console.Error.WriteLineAsync($"warming up ({o.Warmup} checks per gateway and configuration; Redis up everywhere)...");
            foreach (var config in blocks)
            {
                var warm = config.Kind switch
                {
                    // Before the faults: the checks of these gateways are plain misses, and they connect to Redis.
                    Kind.KilledRetry => config with { Kind = Kind.Miss },
                    Kind.PausedRetry => config with { Kind = Kind.Miss },
                    _ => config,
                };
                if (warm.Kind == Kind.Miss && config.Kind != Kind.Miss)
                {
                    var gateway = config.Kind == Kind.KilledRetry ? o.Down : o.Paused;
                    for (var i = 0; i < o.Warmup; i++)
                    {
                        await OneAsync(gateway, Moderated, Prompt("warm-up", config.LatencyMs ?? 0), "miss", null);
                    }
                    continue;
                }
                await BlockAsync(warm, o.Warmup, measured: false);
            }

            await Console.Error.WriteLineAsync($"killing Redis (pid {o.RedisDownPid}) and pausing Redis (pid {o.RedisPausedPid})...");
            using (var redis = Process.GetProcessById(o.RedisDownPid))
            {
                // SIGKILL: its sockets close as it dies (the script, its parent, reaps it).
                redis.Kill();
            }
            await SignalAsync(o.RedisPausedPid, "STOP");
            // The first failure of each: the checks that find Redis gone (not measured).
            await FaultAsync(o.Down, 0, null, null, 0);
            await FaultAsync(o.Paused, 0, null, null, 0);

            var foreign = new List<double>();
            var quiet = new List<double>();
            for (var round = 0; round < o.Rounds; round++)
            {
                quiet.Add(await meter.WaitForQuietAsync(o.MaxForeignCores, o.QuietWait));
                var before = meter.Read();
                var shift = round * blocks.Count / o.Rounds;
                foreach (var config in blocks.Skip(shift).Concat(blocks.Take(shift)))
                {
                    await BlockAsync(config, o.Samples, measured: true);
                }
                foreign.Add(CpuMeter.Between(before, meter.Read()).ForeignCores);
                var line = string.Join("  ", rows.Where(r => r.Value.Ms.Count > 0).Select(r => $"{Short(r.Key)} {Ms(Stats.Quantile(r.Value.Ms, 0.5))}"));
                await Console.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"[round {round + 1}/{o.Rounds}] others {foreign[^1]:F2} cores; p50 ms so far: {line}"));
            }

            var report = Report(o, rows, quiet, foreign);
            Console.Write(report);
            if (o.Out is { } path)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                await File.WriteAllTextAsync(path, report);
            }
            return rows.Values.Any(r => r.Errors > 0) ? 3 : 0;
        }
        finally
        {
            // Leave the paused Redis stoppable (the script stops it by its pid).
            await SignalAsync(o.RedisPausedPid, "CONT");
        }
    }

    private static async Task<(double Ms, string? Error)> SendAsync(HttpClient client, Uri gateway, string model, string prompt, string? expectedCache)
    {
        var body = new JsonObject
        {
            ["model"] = model,
            ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = prompt }),
            ["max_tokens"] = 16,
        };
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body.ToJsonString()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var url = new Uri(gateway, "/v1/chat/completions");
        var start = Stopwatch.GetTimestamp();
        try
        {
            using var response = await client.PostAsync(url, content);
            await response.Content.LoadIntoBufferAsync();
            var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            var cache = response.Headers.TryGetValues("x-moderation-prompt-cache", out var values) ? string.Join(",", values) : null;
            var outcome = response.Headers.TryGetValues("x-moderation-prompt", out var o) ? string.Join(",", o) : null;
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (ms, $"HTTP {(int)response.StatusCode}");
            }
            if (model == Moderated && outcome != "allowed")
            {
                return (ms, $"prompt {outcome ?? "not checked"}");
            }
            return cache == expectedCache ? (ms, null) : (ms, $"cache {cache ?? "-"} where {expectedCache ?? "-"} was expected");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return (Stopwatch.GetElapsedTime(start).TotalMilliseconds, ex.Message);
        }
    }

    /// <summary>The shared Redis's key count (<c>DBSIZE</c> over a plain socket).</summary>
    private static async Task<long> DbSizeAsync(string redis)
    {
        var colon = redis.LastIndexOf(':');
        using var socket = new TcpClient();
        await socket.ConnectAsync(redis[..colon], int.Parse(redis[(colon + 1)..], CultureInfo.InvariantCulture));
        var stream = socket.GetStream();
        await stream.WriteAsync("DBSIZE\r\n"u8.ToArray());
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer);
        var reply = Encoding.ASCII.GetString(buffer, 0, read);
        return reply.StartsWith(':')
            ? long.Parse(reply[1..].TrimEnd(), CultureInfo.InvariantCulture)
            : throw new InvalidOperationException($"DBSIZE answered '{reply.TrimEnd()}'");
    }

    private static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill")
        {
            ArgumentList = { "-s", signal, pid.ToString(CultureInfo.InvariantCulture) },
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("kill did not start");
        await kill.WaitForExitAsync();
    }

    private static string Report(CacheBenchOptions o, Dictionary<Config, Row> rows, List<double> quiet, List<double> foreign)
    {
        var inv = CultureInfo.InvariantCulture;
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');
        double P(Config c, double q) => rows.TryGetValue(c, out var r) ? Stats.Quantile(r.Ms, q) : double.NaN;
        var sortedForeign = foreign.Order().ToArray();

        Line("### Run");
        Line();
        Line(string.Create(inv, $"- Date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(o.Commit is { } c ? $", commit {c}" : "")}"));
        Line(string.Create(inv, $"- Machine: {Environment.ProcessorCount} logical cores ({Benchmark.CpuModel()}), {RuntimeInformation.OSDescription}, {RuntimeInformation.FrameworkDescription}"));
        Line(string.Create(inv, $"- Gateways: Cache:RedisTimeout {o.RedisTimeout.TotalMilliseconds:0} ms, Cache:RedisRetryInterval {o.RetryInterval.TotalSeconds:0.##} s; one check at a time (OpenAI chat, non-stream, prompt check only)"));
        Line(string.Create(inv, $"- Schedule: {o.Warmup} unmeasured checks per gateway and configuration; then {o.Rounds} rounds, each running every configuration once ({o.Samples} checks; the first check after the retry interval: 1, and the skipped ones after it within half the interval), in an order rotated per round"));
        Line(string.Create(inv, $"- Other processes on the machine: each round waited up to {o.QuietWait.TotalSeconds:0} s for them to use at most {o.MaxForeignCores:0.##} cores (got {quiet.Min():F2} to {quiet.Max():F2}); during the rounds they used {Stats.Percentile(sortedForeign, 0.5):F2} cores at the median, {sortedForeign[^1]:F2} at most"));
        Line($"- Command: `{o.Command}`");
        Line();

        var baseline = new Config(Kind.Unmoderated, null);
        foreach (var latency in o.Latencies)
        {
            var guard = new Config(Kind.CacheOff, latency);
            Line(string.Create(inv, $"### Guard latency {latency:0.#} ms"));
            Line();
            Line("| Check | n | p50 ms | p99 ms | p50 / guard call | p99 / guard call | added p50 ms | added / guard call's |");
            Line("|---|---:|---:|---:|---:|---:|---:|---:|");
            Config[] order =
            [
                baseline, guard, new(Kind.Miss, latency), new(Kind.L1Hit, null), new(Kind.L2Hit, null),
                new(Kind.KilledSkipped, latency), new(Kind.KilledRetry, latency), new(Kind.PausedSkipped, latency), new(Kind.PausedRetry, latency),
            ];
            foreach (var config in order)
            {
                var n = rows.TryGetValue(config, out var row) ? row.Ms.Count : 0;
                var added = P(config, 0.5) - P(baseline, 0.5);
                var guardAdded = P(guard, 0.5) - P(baseline, 0.5);
                Line(string.Create(inv,
                    $"| {Title(config.Kind)} | {n} | {Ms(P(config, 0.5))} | {Ms(P(config, 0.99))} " +
                    $"| {Ratio(P(config, 0.5), P(guard, 0.5))} | {Ratio(P(config, 0.99), P(guard, 0.99))} " +
                    $"| {(config == baseline ? "–" : Ms(added))} | {(config == baseline ? "–" : Ratio(added, guardAdded))} |"));
            }
            Line();
        }
        Line("Guard call: the same check with `Cache:Verdicts=false` (every check calls the guard). Added: p50 minus the unmoderated request's p50 (the same request with no prompt check). Hits and the unmoderated request call no guard: the same measurements appear under each latency. p99 of the first checks after the retry interval is over one check per round: the slowest.");
        Line();
        var failed = rows.Where(r => r.Value.Errors > 0).ToList();
        Line(failed.Count == 0
            ? "Errors: none (every check was HTTP 200, allowed, and used the cache as its row says: miss, hit, or no cache)."
            : "Errors: " + string.Join("; ", failed.Select(f => $"{Short(f.Key)}: {f.Value.Errors} ({f.Value.FirstError})")));
        return md.ToString();
    }

    private static string Title(Kind kind) => kind switch
    {
        Kind.Unmoderated => "No prompt check (the request alone)",
        Kind.CacheOff => "**Guard call** (cache off)",
        Kind.Miss => "Miss, Redis up (memory, Redis read, guard; Redis written after answering)",
        Kind.L1Hit => "L1 hit (memory)",
        Kind.L2Hit => "L2 hit (Redis read; written by another gateway)",
        Kind.KilledSkipped => "Redis killed, within the retry interval (Redis skipped, guard)",
        Kind.KilledRetry => "Redis killed, first check after the retry interval (Redis tried, guard)",
        Kind.PausedSkipped => "Redis paused, within the retry interval (Redis skipped, guard)",
        Kind.PausedRetry => "Redis paused, first check after the retry interval (Redis tried, guard)",
        _ => kind.ToString(),
    };

    private static string Short(Config c) => string.Create(CultureInfo.InvariantCulture,
        $"{c.Kind switch
        {
            Kind.Unmoderated => "none",
            Kind.CacheOff => "off",
            Kind.Miss => "miss",
            Kind.L1Hit => "l1",
            Kind.L2Hit => "l2",
            Kind.KilledSkipped => "killed",
            Kind.KilledRetry => "killed-retry",
            Kind.PausedSkipped => "paused",
            _ => "paused-retry",
        }}{(c.LatencyMs is { } l ? $"/{l}" : "")}");

    private static string Ms(double ms) => double.IsNaN(ms) ? "–" : ms.ToString(Math.Abs(ms) < 10 ? "F2" : Math.Abs(ms) < 100 ? "F1" : "F0", CultureInfo.InvariantCulture);

    private static string Ratio(double value, double baseline) =>
        double.IsNaN(value) || double.IsNaN(baseline) || baseline == 0 ? "–" : (value / baseline).ToString(Math.Abs(value / baseline) < 10 ? "F3" : "F1", CultureInfo.InvariantCulture) + "×";
}
