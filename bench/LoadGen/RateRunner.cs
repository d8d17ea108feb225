using System.Diagnostics;

namespace Bench.LoadGen;

/// <summary>Fixed-rate load: each client sends on its own schedule (one request every 1/rate s, the clients' schedules
/// evenly staggered), on its own kept-alive connection. A request's latency runs from its sending to its last byte;
/// when the client's previous request was still running at the scheduled time, from the scheduled time, so that a
/// stall also counts for the requests it delayed (no coordinated omission).</summary>
internal static class RateRunner
{
    /// <summary>Runs <paramref name="clients"/> clients at <paramref name="rate"/> requests per second each:
    /// <paramref name="warmup"/> unmeasured, then <paramref name="duration"/> measured.</summary>
    public static async Task<RunResult> RunAsync(
        HttpClient client, Target target, int clients, double rate, TimeSpan warmup, TimeSpan duration, int? upstreamPid, CpuMeter meter)
    {
        var interval = (long)(Stopwatch.Frequency / rate);
        var start = Stopwatch.GetTimestamp();
        var measureStart = start + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var measureEnd = measureStart + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, clients)
            .Select(i => Task.Run(() => ClientAsync(client, target, start + i * interval / clients, interval, measureStart, measureEnd)))
            .ToArray();

        await DelayUntilAsync(measureStart);
        var before = meter.Read();
        await DelayUntilAsync(measureEnd);
        var cpu = CpuMeter.Between(before, meter.Read());

        var results = await Task.WhenAll(workers);
        var latency = results.SelectMany(r => r.Latency).ToArray();
        Array.Sort(latency);
        return new RunResult(
            latency.LongLength, results.Sum(r => r.Errors), duration, latency, [],
            cpu.Of(target.Pids), upstreamPid == target.ServerPid ? null : cpu.Of(upstreamPid), cpu.Self, cpu.ForeignCores, cpu.StealCores,
            results.Select(r => r.FirstError).FirstOrDefault(e => e is not null));
    }

    private static async Task<(List<long> Latency, long Errors, string? FirstError)> ClientAsync(
        HttpClient client, Target target, long first, long interval, long measureStart, long measureEnd)
    {
        var latency = new List<long>(1024);
        var buffer = new byte[16 * 1024];
        long errors = 0;
        string? firstError = null;
        long previousDone = 0;
        for (var scheduled = first; scheduled < measureEnd; scheduled += interval)
        {
            await DelayUntilAsync(scheduled);
            var sent = previousDone > scheduled ? scheduled : Stopwatch.GetTimestamp();
            var (ok, error, _) = await LoadRunner.SendAsync(client, target, stream: false, buffer);
            var done = previousDone = Stopwatch.GetTimestamp();
            if (scheduled < measureStart || done > measureEnd)
            {
                continue;
            }
            if (!ok)
            {
                errors++;
                firstError ??= error;
                continue;
            }
            latency.Add(done - sent);
        }
        return (latency, errors, firstError);
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
