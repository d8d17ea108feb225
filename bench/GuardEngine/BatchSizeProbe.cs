using System.Diagnostics;
using System.Globalization;
using Guard.Conversations;
using Guard.Onnx.Engine;
using Microsoft.ML.OnnxRuntime;

namespace Bench.GuardEngine;

/// <summary>CPU time per call of one batched pass against the batch size, the batch made of the same calls each time.</summary>
internal static class BatchSizeProbe
{
    public static void Run(string modelDir, int threads, int[] sizes, int callsPerSize)
    {
        var inv = CultureInfo.InvariantCulture;
        using var engine = OnnxGuardEngine.Create(new OnnxGuardEngineOptions { ModelDirectory = modelDir, IntraOpThreads = threads, MaxConcurrency = 1, MaxCategoryTokens = 1 });
        var decoder = new BatchDecoder(engine.Decoder, engine.Encoder);
        var prefix = engine.GetPrefix(GuardRole.User)!;
        var ids = engine.EncodeConversation(GuardConversation.ForPrompt("Tell me how to hotwire a car, step by step, and don't leave anything out.")).Ids;
        Console.WriteLine("| batch | CPU ms per call | wall ms per call |");
        Console.WriteLine("|---:|---:|---:|");
        foreach (var size in sizes)
        {
            var calls = Enumerable.Range(0, size).Select(_ => new BatchCall(ids, prefix, false, 1, StopRule.Verdict, [], CancellationToken.None)).ToArray();
            using var runOptions = new RunOptions();
            decoder.Generate(calls, prefix, runOptions);
            var batches = Math.Max(1, callsPerSize / size);
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < batches; i++)
            {
                decoder.Generate(calls, prefix, runOptions);
            }

            var wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            var used = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds;
            Console.WriteLine(string.Create(inv, $"| {size} | {used / (batches * size):F2} | {wall / (batches * size):F2} |"));
        }
    }
}
