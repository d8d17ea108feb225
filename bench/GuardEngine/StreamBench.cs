using System.Diagnostics;
using System.Globalization;
using System.Text;
using Guard.Conversations;
using Guard.Onnx.Engine;

namespace Bench.GuardEngine;

/// <summary>
/// The stream mode (<c>--stream</c>): a response of N tokens checked every W tokens, each check judging the response so
/// far, as the gateway's windowed stream filter does; once with plain calls (cached prefix, the whole response so far
/// every window) and once with a stream session (docs/adr/012-stream-sessions.md), masking stale slots (the engine's
/// rule) or dropping them by a copy at every window. Reports the guard tokens run per stream and the stream's total
/// check time.
/// </summary>
internal static class StreamBench
{
    private const string Question = "Can you explain how bread is made at home, step by step?";

    private static readonly string[] Words =
    [
        "flour", "water", "salt", "yeast", "dough", "knead", "rise", "fold", "shape", "bake", "oven", "crust", "crumb",
        "the", "a", "and", "then", "until", "for", "about", "minutes", "hours", "warm", "gently", "smooth", "bowl",
        "cover", "rest", "proof", "steam", "golden", "loaf", "temperature", "degrees", "starter", "hydration",
    ];

    private enum Mode
    {
        Plain,
        Session,
        SessionCopy,
    }

    /// <summary>Runs the stream benchmark and writes a markdown report to stdout.</summary>
    /// <param name="modelDir">The model directory.</param>
    /// <param name="threads">ONNX Runtime intra-op threads.</param>
    /// <param name="lengths">Response lengths in tokens.</param>
    /// <param name="windows">Window sizes in tokens.</param>
    /// <param name="repeats">Streams per mode and length; the median time is reported.</param>
    public static async Task RunAsync(string modelDir, int threads, IReadOnlyList<int> lengths, IReadOnlyList<int> windows, int repeats)
    {
        var inv = CultureInfo.InvariantCulture;
        using var engine = OnnxGuardEngine.Create(new OnnxGuardEngineOptions
        {
            ModelDirectory = modelDir,
            IntraOpThreads = threads,
            MaxConcurrency = 1,
            // One pass per check: what a check costs when the model answers `safe`.
            MaxCategoryTokens = 1,
        });
        Console.WriteLine(string.Create(inv,
            $"Stream: a response of N tokens checked every W tokens (the response so far each time), {repeats} streams per cell, median reported; verdict pass only (MaxCategoryTokens 1), MaxConcurrency 1, {threads} intra-op thread(s)."));
        Console.WriteLine();
        Console.WriteLine("| W | N | checks | plain: guard tokens | session: guard tokens | tokens ratio | plain ms | session ms | speed-up | session, copy each window ms | plain CPU ms | session CPU ms | session, copy each window CPU ms |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");

        // Warm-up: every path once.
        var warm = Windows(engine, 64, 32);
        foreach (var mode in Enum.GetValues<Mode>())
        {
            await RunStreamAsync(engine, warm, mode);
        }

        foreach (var window in windows)
        {
            var tokens = new Dictionary<(int, Mode), long>();
            foreach (var length in lengths)
            {
                var checks = Windows(engine, length, window);
                var time = new Dictionary<Mode, (double Wall, double Cpu)>();
                foreach (var mode in Enum.GetValues<Mode>())
                {
                    var walls = new double[repeats];
                    var cpus = new double[repeats];
                    for (var r = 0; r < repeats; r++)
                    {
                        (walls[r], cpus[r], tokens[(length, mode)]) = await RunStreamAsync(engine, checks, mode);
                    }

                    time[mode] = (Median(walls), Median(cpus));
                }

                Console.WriteLine(string.Create(inv,
                    $"| {window} | {length} | {checks.Count} | {tokens[(length, Mode.Plain)]} | {tokens[(length, Mode.Session)]} | {tokens[(length, Mode.Plain)] / (double)tokens[(length, Mode.Session)]:F1}x | {time[Mode.Plain].Wall:F0} | {time[Mode.Session].Wall:F0} | {time[Mode.Plain].Wall / time[Mode.Session].Wall:F1}x | {time[Mode.SessionCopy].Wall:F0} | {time[Mode.Plain].Cpu:F0} | {time[Mode.Session].Cpu:F0} | {time[Mode.SessionCopy].Cpu:F0} |"));
            }

            var (shortest, longest) = (lengths.Min(), lengths.Max());
            Console.WriteLine();
            Console.WriteLine(string.Create(inv,
                $"W = {window}: from N = {shortest} to N = {longest} ({longest / (double)shortest:F0}x longer), guard tokens per stream grow {tokens[(longest, Mode.Plain)] / (double)tokens[(shortest, Mode.Plain)]:F1}x with plain calls and {tokens[(longest, Mode.Session)] / (double)tokens[(shortest, Mode.Session)]:F1}x with a session."));
            Console.WriteLine();
        }

        var stats = engine.Statistics;
        Console.WriteLine(string.Create(inv,
            $"Engine: {stats.StreamSessionsOpened} sessions, {stats.StreamWindows} session windows ({stats.StreamWindowsContinued} continued their cache), {stats.StreamCompactions} compactions, {stats.StreamCacheEvictions} evictions."));
    }

    /// <summary>Runs one stream's checks in order; returns its wall and CPU milliseconds and the guard tokens it ran.</summary>
    private static async Task<(double Wall, double Cpu, long Tokens)> RunStreamAsync(OnnxGuardEngine engine, IReadOnlyList<GuardConversation> checks, Mode mode)
    {
        engine.StreamCompaction = mode == Mode.SessionCopy ? StreamCompaction.Always : StreamCompaction.Default;
        var tokensBefore = engine.Statistics.TokensRun;
        var cpuStart = CpuTime();
        var start = Stopwatch.GetTimestamp();
        if (mode == Mode.Plain)
        {
            foreach (var check in checks)
            {
                await engine.ClassifyAsync(check, CancellationToken.None);
            }
        }
        else
        {
            using var session = engine.OpenStream()!;
            foreach (var check in checks)
            {
                await session.ClassifyAsync(check, CancellationToken.None);
            }
        }

        var wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        return (wall, (CpuTime() - cpuStart).TotalMilliseconds, engine.Statistics.TokensRun - tokensBefore);
    }

    /// <summary>The checks of a response of <paramref name="length"/> tokens cut every <paramref name="window"/>
    /// tokens (at word ends), the last one judging the whole response.</summary>
    private static List<GuardConversation> Windows(OnnxGuardEngine engine, int length, int window)
    {
        var random = new Random(length);
        var text = new StringBuilder();
        var checks = new List<GuardConversation>();
        var next = window;
        var sentence = 0;
        while (true)
        {
            var word = Words[random.Next(Words.Length)];
            text.Append(sentence == 0 ? char.ToUpperInvariant(word[0]) + word[1..] : " " + word);
            sentence++;
            if (sentence > 8 && random.Next(4) == 0)
            {
                text.Append(". ");
                sentence = 0;
            }

            var count = engine.Encoder.Tokenizer.CountTokens(text.ToString());
            if (count >= length)
            {
                checks.Add(GuardConversation.ForResponse(Question, text.ToString()));
                return checks;
            }

            if (count >= next)
            {
                checks.Add(GuardConversation.ForResponse(Question, text.ToString()));
                next += window;
            }
        }
    }

    private static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }
}
