using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Bench.LoadGen;

/// <summary>What one run measured. Latencies are <see cref="Stopwatch"/> ticks, sorted.</summary>
internal sealed record RunResult(
    long Completed, long Errors, TimeSpan Measured, long[] Latency, long[] FirstByte,
    TimeSpan? ServerCpu, TimeSpan? UpstreamCpu, TimeSpan SelfCpu, double ForeignCores, double StealCores, string? FirstError)
{
    public double RequestsPerSecond => Completed / Measured.TotalSeconds;

    /// <summary>Nearest-rank percentile in milliseconds.</summary>
    public static double Percentile(long[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)] * 1000.0 / Stopwatch.Frequency;

    /// <summary>CPU time per completed request, in microseconds.</summary>
    public double? CpuPerRequestUs(TimeSpan? cpu) => cpu is { } c && Completed > 0 ? c.TotalMicroseconds / Completed : null;

    /// <summary>Several slices of the same load, as one result.</summary>
    public static RunResult Combine(IReadOnlyList<RunResult> slices)
    {
        var measured = slices.Aggregate(TimeSpan.Zero, (sum, r) => sum + r.Measured);
        static TimeSpan? Sum(IEnumerable<TimeSpan?> values) => values.Any(v => v is null) ? null : values.Aggregate(TimeSpan.Zero, (sum, v) => sum + v!.Value);
        double Weighted(Func<RunResult, double> value) => slices.Sum(r => value(r) * r.Measured.TotalSeconds) / measured.TotalSeconds;
        var latency = slices.SelectMany(r => r.Latency).ToArray();
        var firstByte = slices.SelectMany(r => r.FirstByte).ToArray();
        Array.Sort(latency);
        Array.Sort(firstByte);
        return new RunResult(
            slices.Sum(r => r.Completed), slices.Sum(r => r.Errors), measured, latency, firstByte,
            Sum(slices.Select(r => r.ServerCpu)), Sum(slices.Select(r => r.UpstreamCpu)), slices.Aggregate(TimeSpan.Zero, (sum, r) => sum + r.SelfCpu),
            Weighted(r => r.ForeignCores), Weighted(r => r.StealCores), slices.Select(r => r.FirstError).FirstOrDefault(e => e is not null));
    }
}

/// <summary>A closed loop: each connection sends a request, reads the whole response, and sends the next at once.
/// Latency is request start to last byte; for streams the first body byte is recorded too. Requests that end in the
/// warm-up or after the measured window are not counted.</summary>
internal static class LoadRunner
{
    private static readonly byte[] DoneTail = "data: [DONE]\n\n"u8.ToArray();

    /// <summary>A client with one keep-alive connection per concurrent request.</summary>
    public static HttpClient CreateClient(int connections) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    /// <summary>Runs the closed loop on <paramref name="connections"/> connections: <paramref name="warmup"/> unmeasured,
    /// then <paramref name="duration"/> measured.</summary>
    public static async Task<RunResult> RunAsync(
        HttpClient client, Target target, bool stream, int connections, TimeSpan warmup, TimeSpan duration, int? upstreamPid, CpuMeter meter)
    {
        var start = Stopwatch.GetTimestamp();
        var measureStart = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var measureEnd = measureStart + (long)(duration.TotalSeconds * Stopwatch.Frequency);

        var workers = Enumerable.Range(0, connections)
            .Select(_ => Task.Run(() => WorkerAsync(client, target, stream, measureStart, measureEnd)))
            .ToArray();

        await DelayUntilAsync(measureStart);
        var before = meter.Read();
        await DelayUntilAsync(measureEnd);
        var cpu = CpuMeter.Between(before, meter.Read());

        var results = await Task.WhenAll(workers);
        var latency = results.SelectMany(r => r.Latency).ToArray();
        var firstByte = results.SelectMany(r => r.FirstByte).ToArray();
        Array.Sort(latency);
        Array.Sort(firstByte);
        return new RunResult(
            latency.LongLength, results.Sum(r => r.Errors), duration, latency, firstByte,
            cpu.Of(target.Pids), upstreamPid == target.ServerPid ? null : cpu.Of(upstreamPid), cpu.Self, cpu.ForeignCores, cpu.StealCores,
            results.Select(r => r.FirstError).FirstOrDefault(e => e is not null));
    }

    /// <summary>Sends one request and reports whether it succeeded (200, a body, and <c>[DONE]</c> last on streams).</summary>
    public static async Task<(bool Ok, string? Error, long FirstByte)> SendAsync(HttpClient client, Target target, bool stream, byte[] buffer)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, target.Url) { Content = new ByteArrayContent(target.Body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await using var body = await response.Content.ReadAsStreamAsync();
            long firstByte = 0;
            long total = 0;
            var tailBuffer = new byte[DoneTail.Length];
            var tailLength = 0;
            int read;
            while ((read = await body.ReadAsync(buffer)) > 0)
            {
                if (firstByte == 0)
                {
                    firstByte = Stopwatch.GetTimestamp();
                }
                total += read;
                tailLength = KeepTail(tailBuffer, tailLength, buffer.AsSpan(0, read));
            }
            if (response.StatusCode != HttpStatusCode.OK)
            {
                return (false, $"HTTP {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(buffer, 0, (int)Math.Min(total, 300))}", firstByte);
            }
            if (total == 0)
            {
                return (false, "empty body", firstByte);
            }
            if (stream && !tailBuffer.AsSpan(0, tailLength).SequenceEqual(DoneTail))
            {
                return (false, "stream did not end with data: [DONE]", firstByte);
            }
            return (true, null, firstByte);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException)
        {
            return (false, ex.GetType().Name + ": " + ex.Message, 0);
        }
    }

    private static int KeepTail(byte[] tail, int length, ReadOnlySpan<byte> data)
    {
        if (data.Length >= tail.Length)
        {
            data[^tail.Length..].CopyTo(tail);
            return tail.Length;
        }
        var keep = Math.Min(length, tail.Length - data.Length);
        tail.AsSpan(length - keep, keep).CopyTo(tail);
        data.CopyTo(tail.AsSpan(keep));
        return keep + data.Length;
    }

    private static async Task<(List<long> Latency, List<long> FirstByte, long Errors, string? FirstError)> WorkerAsync(
        HttpClient client, Target target, bool stream, long measureStart, long measureEnd)
    {
        var latency = new List<long>(4096);
        var firstByte = new List<long>(stream ? 4096 : 0);
        var buffer = new byte[16 * 1024];
        long errors = 0;
        string? firstError = null;
        while (true)
        {
            var t0 = Stopwatch.GetTimestamp();
            if (t0 >= measureEnd)
            {
                break;
            }
            var (ok, error, first) = await SendAsync(client, target, stream, buffer);
            var t1 = Stopwatch.GetTimestamp();
            if (t1 <= measureStart || t1 > measureEnd)
            {
                continue;
            }
            if (!ok)
            {
                errors++;
                firstError ??= error;
                continue;
            }
            latency.Add(t1 - t0);
            if (stream)
            {
                firstByte.Add(first - t0);
            }
        }
        return (latency, firstByte, errors, firstError);
    }

    private static async Task DelayUntilAsync(long timestamp)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }
    }
}
