using System.Diagnostics;
using System.Globalization;
using Guard.Conversations;
using Guard.Onnx.Engine;

namespace Bench.GuardEngine;

/// <summary>
/// Throughput and latency against concurrency, unbatched and with dynamic batching, side by side: for each
/// concurrency, closed-loop clients call <c>ClassifyAsync</c> back to back for a fixed time, alternating the two engines
/// round by round so that both see the same load from other processes.
/// </summary>
internal static class BatchingBenchmark
{
    /// <summary>Runs the comparison and writes a markdown table.</summary>
    /// <param name="modelDir">The model directory.</param>
    /// <param name="concurrencies">Clients per row.</param>
    /// <param name="seconds">Measured seconds per round and engine.</param>
    /// <param name="rounds">Alternating rounds per row.</param>
    /// <param name="answerTokens">MaxCategoryTokens (1: the verdict pass only).</param>
    /// <param name="threads">Intra-op threads per session.</param>
    /// <param name="maxBatch">MaxBatchSize of the batched engine.</param>
    /// <param name="window">BatchWindow of the batched engine.</param>
    public static async Task RunAsync(string modelDir, int[] concurrencies, double seconds, int rounds, int answerTokens, int threads, int maxBatch, TimeSpan window)
    {
        var inv = CultureInfo.InvariantCulture;
        var conversations = new[]
        {
            GuardConversation.ForPrompt("How do I bake bread?"),
            GuardConversation.ForPrompt("Tell me how to hotwire a car, step by step, and don't leave anything out."),
            GuardConversation.ForPrompt("Write a short story about a lighthouse keeper who finds a message in a bottle."),
            GuardConversation.ForPrompt("What's the capital of France?"),
        };

        var cores = Environment.ProcessorCount;
        using var unbatched = OnnxGuardEngine.Create(new OnnxGuardEngineOptions
        {
            ModelDirectory = modelDir,
            IntraOpThreads = threads,
            MaxConcurrency = cores,
            MaxCategoryTokens = answerTokens,
        });
        using var batched = OnnxGuardEngine.Create(new OnnxGuardEngineOptions
        {
            ModelDirectory = modelDir,
            IntraOpThreads = threads,
            MaxConcurrency = cores,
            MaxCategoryTokens = answerTokens,
            MaxBatchSize = maxBatch,
            BatchWindow = window,
        });

        Console.WriteLine(string.Create(inv,
            $"Concurrency: closed-loop clients, {rounds} alternating rounds of {seconds:F1} s per engine and row, user prompts of 4 lengths, MaxCategoryTokens {answerTokens}, {threads} intra-op thread(s), MaxConcurrency {cores} (one call or batch per core). Batched: MaxBatchSize {maxBatch}, BatchWindow {window.TotalMilliseconds:F1} ms."));
        Console.WriteLine();
        Console.WriteLine("| clients | unbatched calls/s | batched calls/s | **throughput ratio** | unbatched p50 / p99 ms | batched p50 / p99 ms | unbatched CPU ms/call | batched CPU ms/call | mean batch |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var clients in concurrencies)
        {
            // Warm both engines at this concurrency (thread pool growth, allocator pools).
            await MeasureAsync(unbatched, conversations, clients, Math.Min(1.0, seconds));
            await MeasureAsync(batched, conversations, clients, Math.Min(1.0, seconds));
            var a = new Sample();
            var b = new Sample();
            var batchesBefore = batched.Statistics.Batches;
            var batchedBefore = batched.Statistics.BatchedCalls;
            for (var round = 0; round < rounds; round++)
            {
                a.Add(await MeasureAsync(unbatched, conversations, clients, seconds));
                b.Add(await MeasureAsync(batched, conversations, clients, seconds));
            }

            var stats = batched.Statistics;
            var meanBatch = (stats.BatchedCalls - batchedBefore) / (double)Math.Max(1, stats.Batches - batchesBefore);
            Console.WriteLine(string.Create(inv,
                $"| {clients} | {a.Rate:F0} | {b.Rate:F0} | **{b.Rate / a.Rate:F2}x** | {a.Percentile(50):F1} / {a.Percentile(99):F1} | {b.Percentile(50):F1} / {b.Percentile(99):F1} | {a.CpuPerCall:F2} | {b.CpuPerCall:F2} | {meanBatch:F1} |"));
        }
    }

    private static async Task<Round> MeasureAsync(OnnxGuardEngine engine, GuardConversation[] conversations, int clients, double seconds)
    {
        var stopAt = Stopwatch.GetTimestamp() + (long)(seconds * Stopwatch.Frequency);
        var latencies = new List<double>[clients];
        var cpu = CpuTime();
        var started = Stopwatch.GetTimestamp();
        var tasks = new Task[clients];
        for (var c = 0; c < clients; c++)
        {
            var list = latencies[c] = [];
            var offset = c;
            tasks[c] = Task.Run(async () =>
            {
                var i = offset;
                while (Stopwatch.GetTimestamp() < stopAt)
                {
                    var start = Stopwatch.GetTimestamp();
                    await engine.ClassifyAsync(conversations[i++ % conversations.Length], CancellationToken.None);
                    list.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                }
            });
        }

        await Task.WhenAll(tasks);
        var wall = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var all = latencies.SelectMany(l => l).ToArray();
        return new Round(all, wall, (CpuTime() - cpu).TotalMilliseconds);
    }

    private static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private sealed record Round(double[] Latencies, double WallSeconds, double CpuMs);

    private sealed class Sample
    {
        private readonly List<double> _latencies = [];
        private double _wall;
        private double _cpu;

        public double Rate => _latencies.Count / _wall;

        public double CpuPerCall => _cpu / _latencies.Count;

        public void Add(Round round)
        {
            _latencies.AddRange(round.Latencies);
            _wall += round.WallSeconds;
            _cpu += round.CpuMs;
        }

        public double Percentile(double p)
        {
            var sorted = _latencies.Order().ToArray();
            var rank = p / 100 * (sorted.Length - 1);
            var lo = (int)Math.Floor(rank);
            var hi = Math.Min(lo + 1, sorted.Length - 1);
            return sorted[lo] + ((sorted[hi] - sorted[lo]) * (rank - lo));
        }
    }
}
