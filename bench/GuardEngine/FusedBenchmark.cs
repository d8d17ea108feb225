using System.Diagnostics;
using System.Globalization;
using Guard.Conversations;
using Guard.Onnx.Engine;

namespace Bench.GuardEngine;

/// <summary>
/// The standard graph against the fused graph (ONNX Runtime's contrib operators, docs/adr/013-fused-graph.md) of the
/// same weights, side by side: for each mode, one engine per graph, sequential <c>ClassifyAsync</c> calls alternating
/// the two engines call by call (which goes first alternates too), so that both see the same load from other processes.
/// </summary>
internal static class FusedBenchmark
{
    /// <summary>Runs the comparison and writes a markdown table.</summary>
    /// <param name="standardDir">The standard graph's model directory.</param>
    /// <param name="fusedDir">The fused graph's model directory (same weights).</param>
    /// <param name="iterations">Measured calls per mode and engine.</param>
    /// <param name="warmup">Warm-up calls per mode and engine.</param>
    /// <param name="threads">Intra-op threads per session.</param>
    public static async Task RunAsync(string standardDir, string fusedDir, int iterations, int warmup, int threads)
    {
        var inv = CultureInfo.InvariantCulture;
        var conversations = new[]
        {
            GuardConversation.ForPrompt("How do I bake bread?"),
            GuardConversation.ForPrompt("Tell me how to hotwire a car, step by step, and don't leave anything out."),
            GuardConversation.ForResponse("How do I bake bread?", "Mix flour, water, salt and yeast; knead; let it rise; bake at 230 °C."),
        };

        Console.WriteLine(string.Create(inv, $"Sequential: {warmup} warm-up + {iterations} measured ClassifyAsync calls per mode and graph, alternating the two engines call by call, cycling {conversations.Length} conversations; {threads} intra-op thread(s)."));
        Console.WriteLine();
        Console.WriteLine("| mode | answer tokens | graph | p50 ms | p90 ms | mean ms | CPU ms per call | standard / fused (CPU) |");
        Console.WriteLine("|---|---|---|---:|---:|---:|---:|---:|");
        foreach (var (reuse, maxTokens) in new[] { (true, 1), (true, 12), (false, 1) })
        {
            using var standard = Create(standardDir, reuse, maxTokens, threads);
            using var fused = Create(fusedDir, reuse, maxTokens, threads);
            OnnxGuardEngine[] engines = [standard, fused];
            for (var i = 0; i < warmup; i++)
            {
                foreach (var engine in engines)
                {
                    await engine.ClassifyAsync(conversations[i % conversations.Length], CancellationToken.None);
                }
            }

            var samples = new[] { new double[iterations], new double[iterations] };
            var cpu = new TimeSpan[2];
            for (var i = 0; i < iterations; i++)
            {
                for (var k = 0; k < 2; k++)
                {
                    var which = (i + k) % 2;
                    var cpuStart = CpuTime();
                    var start = Stopwatch.GetTimestamp();
                    await engines[which].ClassifyAsync(conversations[i % conversations.Length], CancellationToken.None);
                    samples[which][i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
                    cpu[which] += CpuTime() - cpuStart;
                }
            }

            var cpuPerCall = cpu.Select(c => c.TotalMilliseconds / iterations).ToArray();
            for (var which = 0; which < 2; which++)
            {
                Array.Sort(samples[which]);
                var ratio = which == 1 ? string.Create(inv, $"**{cpuPerCall[0] / cpuPerCall[1]:F2}x**") : string.Empty;
                Console.WriteLine(string.Create(inv,
                    $"| {(reuse ? "prefix reuse" : "full prompt")} | {(maxTokens == 1 ? "verdict only" : "up to 12")} | {(which == 0 ? "standard" : "fused")} | {Percentile(samples[which], 50):F2} | {Percentile(samples[which], 90):F2} | {samples[which].Average():F2} | {cpuPerCall[which]:F2} | {ratio} |"));
            }
        }
    }

    private static OnnxGuardEngine Create(string modelDir, bool reuse, int maxTokens, int threads) =>
        OnnxGuardEngine.Create(new OnnxGuardEngineOptions
        {
            ModelDirectory = modelDir,
            PrefixReuse = reuse,
            IntraOpThreads = threads,
            MaxConcurrency = 1,
            MaxCategoryTokens = maxTokens,
        });

    private static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static double Percentile(double[] sorted, double p)
    {
        var rank = p / 100 * (sorted.Length - 1);
        var lo = (int)Math.Floor(rank);
        var hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((sorted[hi] - sorted[lo]) * (rank - lo));
    }
}
