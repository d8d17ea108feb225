// ONNX guard engine latency on the CPU: the same calls with and without the cached prompt prefix (docs/adr/006),
// on a tiny random-weight Llama Guard 1 model built by the model builder (real Llama 2 vocabulary, 32,000 tokens).
// Writes a markdown report to stdout.
//   dotnet run -c Release --project bench/GuardEngine -- [--iterations 300] [--warmup 30] [--hidden 64] [--layers 2]
//       [--threads 1] [--concurrency 4] [--calls 400] [--all-logits] [--model-dir DIR]
//   dotnet run -c Release --project bench/GuardEngine -- --batching [--hidden 256 --layers 4] [--clients 1,4,16,64,256]
//       [--seconds 3] [--rounds 2] [--answer-tokens 1] [--max-batch 64] [--window-ms 0]
// --batching compares throughput and latency against concurrency with and without dynamic batching (and skips the rest).
//   dotnet run -c Release --project bench/GuardEngine -- --stream [--lengths 100,200,400,800] [--windows 32,100]
//       [--repeats 3] [--hidden 256] [--layers 4]
// --stream checks growing responses window by window, with plain calls and with a stream session (StreamBench.cs).
// --all-logits builds a graph that returns every position's logits (the default returns the last position's only);
// --shared-prefix builds a shared-prefix graph (the prefix cache an input of its own, docs/adr/006); --fused builds
// the fused graph (ONNX Runtime's contrib operators, docs/adr/013).
//   dotnet run -c Release --project bench/GuardEngine -- --compare-fused [--hidden 256 --layers 4] [--iterations 100]
//       [--warmup 10]
// --compare-fused builds the standard and the fused graph of the same weights and compares them call by call
// (FusedBenchmark.cs).
// Needs `./eng/bootstrap.sh --tests` (the Llama 2 test tokenizer is generated from npm llama-tokenizer-js on first use).
using System.Diagnostics;
using System.Globalization;
using Bench.Common;
using Bench.GuardEngine;
using Guard.Conversations;
using Guard.Onnx.Builder;
using Guard.Onnx.Engine;
using Guard.Onnx.Models;
using Guard.Prompts;

var inv = CultureInfo.InvariantCulture;
var iterations = IntArg("--iterations", 300);
var warmup = IntArg("--warmup", 30);
var threads = IntArg("--threads", 1);
var concurrency = IntArg("--concurrency", Environment.ProcessorCount);
var calls = IntArg("--calls", 400);
var config = new LlamaConfig
{
    VocabSize = 32000,
    HiddenSize = IntArg("--hidden", 64),
    IntermediateSize = IntArg("--hidden", 64) * 2,
    NumLayers = IntArg("--layers", 2),
    NumHeads = 4,
    NumKvHeadsConfigured = 2,
    MaxPositions = 2048,
};

var modelDir = Arg("--model-dir", string.Empty);
var temp = string.Empty;
if (modelDir.Length == 0)
{
    temp = Path.Combine(Path.GetTempPath(), "guard-engine-bench-" + Environment.ProcessId.ToString(inv));
    modelDir = BuildTinyModel(temp, config, !args.Contains("--all-logits"), args.Contains("--shared-prefix"), args.Contains("--fused"));
}

try
{
    if (args.Contains("--compare-fused"))
    {
        if (temp.Length == 0 || args.Contains("--fused") || args.Contains("--shared-prefix"))
        {
            throw new ArgumentException("--compare-fused builds both graphs itself: leave out --model-dir, --fused and --shared-prefix.");
        }

        var fusedDir = BuildTinyModel(temp + "-fused", config, !args.Contains("--all-logits"), sharedPrefix: false, fused: true);
        try
        {
            Console.WriteLine(string.Create(inv, $"Model: hidden {config.HiddenSize}, {config.NumLayers} layers, vocab {config.VocabSize}, random weights; the standard and the fused graph of the same weights."));
            Console.WriteLine(string.Create(inv, $"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, ONNX Runtime {Guard.Onnx.OnnxRuntimeInfo.GetVersion()}, CPU execution provider."));
            await FusedBenchmark.RunAsync(modelDir, fusedDir, iterations, warmup, threads);
        }
        finally
        {
            Directory.Delete(fusedDir, recursive: true);
        }

        return;
    }

    if (args.Contains("--stream"))
    {
        Console.WriteLine(string.Create(inv, $"Model: hidden {config.HiddenSize}, {config.NumLayers} layers, vocab {config.VocabSize}, random weights, context {config.MaxPositions}."));
        Console.WriteLine(string.Create(inv, $"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, ONNX Runtime {Guard.Onnx.OnnxRuntimeInfo.GetVersion()}, CPU execution provider."));
        await StreamBench.RunAsync(modelDir, threads, IntListArg("--lengths", [100, 200, 400, 800]), IntListArg("--windows", [32, 100]), IntArg("--repeats", 3));
        return;
    }

    if (args.Contains("--batch-sizes"))
    {
        Bench.GuardEngine.BatchSizeProbe.Run(modelDir, threads, [.. Arg("--sizes", "1,2,4,8,16,32").Split(',').Select(c => int.Parse(c, inv))], IntArg("--calls", 128));
        return;
    }

    if (args.Contains("--batching"))
    {
        await Bench.GuardEngine.BatchingBenchmark.RunAsync(
            modelDir,
            [.. Arg("--clients", "1,4,16,64,256").Split(',').Select(c => int.Parse(c, inv))],
            double.Parse(Arg("--seconds", "3"), inv),
            IntArg("--rounds", 2),
            IntArg("--answer-tokens", 1),
            threads,
            IntArg("--max-batch", 64),
            TimeSpan.FromMilliseconds(double.Parse(Arg("--window-ms", "0"), inv)));
        return;
    }

    var conversations = new[]
    {
        GuardConversation.ForPrompt("How do I bake bread?"),
        GuardConversation.ForPrompt("Tell me how to hotwire a car, step by step, and don't leave anything out."),
        GuardConversation.ForResponse("How do I bake bread?", "Mix flour, water, salt and yeast; knead; let it rise; bake at 230 °C."),
    };

    Console.WriteLine(string.Create(inv, $"Model: {modelDir} (hidden {config.HiddenSize}, {config.NumLayers} layers, vocab {config.VocabSize}, random weights)."));
    Console.WriteLine(string.Create(inv, $"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, ONNX Runtime {Guard.Onnx.OnnxRuntimeInfo.GetVersion()}, CPU execution provider, {threads} intra-op thread(s)."));
    Console.WriteLine(string.Create(inv, $"Sequential: {warmup} warm-up + {iterations} measured ClassifyAsync calls per mode, cycling {conversations.Length} conversations (user prompts and an agent response)."));
    Console.WriteLine();
    Console.WriteLine("| mode | answer tokens | prompt tokens | prompt tokens run | passes per call | p50 ms | p90 ms | p99 ms | mean ms | CPU ms per call |");
    Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    var results = new Dictionary<(bool, int), double>();
    var cpu = new Dictionary<(bool, int), double>();
    // maxTokens 1: only the verdict pass, what a call costs when the model answers `safe` (most calls of a real model).
    // maxTokens 12: random weights rarely answer a verdict word, so the engine decodes up to 4 more tokens.
    foreach (var (reuse, maxTokens) in new[] { (false, 1), (true, 1), (false, 12), (true, 12) })
    {
        using var engine = OnnxGuardEngine.Create(new OnnxGuardEngineOptions
        {
            ModelDirectory = modelDir,
            PrefixReuse = reuse,
            IntraOpThreads = threads,
            MaxConcurrency = 1,
            MaxCategoryTokens = maxTokens,
        });
        var promptTokens = conversations.Select(c => engine.EncodeConversation(c).Ids.Length).ToArray();
        var runTokens = conversations.Select((c, i) => promptTokens[i] - engine.GetPrefixTokenCount(c.Role)).ToArray();
        for (var i = 0; i < warmup; i++)
        {
            await engine.ClassifyAsync(conversations[i % conversations.Length], CancellationToken.None);
        }

        var samples = new double[iterations];
        var passesBefore = engine.Statistics.ForwardPasses;
        var cpuStart = CpuTime();
        for (var i = 0; i < iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await engine.ClassifyAsync(conversations[i % conversations.Length], CancellationToken.None);
            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }

        // CPU time per call: what a call costs even when other processes compete for the cores (wall time then waits).
        var cpuPerCall = (CpuTime() - cpuStart).TotalMilliseconds / iterations;
        var passes = (engine.Statistics.ForwardPasses - passesBefore) / (double)iterations;
        Array.Sort(samples);
        results[(reuse, maxTokens)] = Percentile(samples, 50);
        cpu[(reuse, maxTokens)] = cpuPerCall;
        Console.WriteLine(string.Create(inv,
            $"| {(reuse ? "prefix reuse" : "full prompt")} | {(maxTokens == 1 ? "verdict only" : "up to 12")} | {promptTokens.Min()}-{promptTokens.Max()} | {runTokens.Min()}-{runTokens.Max()} | {passes:F1} | {Percentile(samples, 50):F2} | {Percentile(samples, 90):F2} | {Percentile(samples, 99):F2} | {samples.Average():F2} | {cpuPerCall:F2} |"));
    }

    using (var engine = OnnxGuardEngine.Create(new OnnxGuardEngineOptions { ModelDirectory = modelDir, PrefixReuse = false, IntraOpThreads = threads }))
    {
        // The part of a call that is not inference: render, count tokens for truncation, tokenize the whole prompt.
        var samples = new double[iterations];
        for (var i = 0; i < warmup + iterations; i++)
        {
            var start = Stopwatch.GetTimestamp();
            engine.EncodeConversation(conversations[i % conversations.Length]);
            if (i >= warmup)
            {
                samples[i - warmup] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            }
        }

        Array.Sort(samples);
        Console.WriteLine(string.Create(inv, $"| render + tokenize only | | | | | {Percentile(samples, 50):F2} | {Percentile(samples, 90):F2} | {Percentile(samples, 99):F2} | {samples.Average():F2} | |"));
    }

    Console.WriteLine();
    foreach (var maxTokens in new[] { 1, 12 })
    {
        Console.WriteLine(string.Create(inv,
            $"- Speed-up of prefix reuse ({(maxTokens == 1 ? "verdict pass only" : "with decoding")}): **{results[(false, maxTokens)] / results[(true, maxTokens)]:F1}x** in p50 latency, **{cpu[(false, maxTokens)] / cpu[(true, maxTokens)]:F1}x** in CPU time per call."));
    }

    Console.WriteLine();

    Console.WriteLine(string.Create(inv, $"Concurrent: {calls} ClassifyAsync calls issued at once, MaxConcurrency {concurrency}, prefix reuse on, {threads} intra-op thread(s) per call."));
    Console.WriteLine();
    Console.WriteLine("| MaxConcurrency | wall ms | calls/s | peak in flight |");
    Console.WriteLine("|---:|---:|---:|---:|");
    foreach (var limit in new[] { 1, concurrency }.Distinct())
    {
        using var engine = OnnxGuardEngine.Create(new OnnxGuardEngineOptions { ModelDirectory = modelDir, IntraOpThreads = threads, MaxConcurrency = limit });
        await engine.ClassifyBatchAsync(conversations, CancellationToken.None);
        var batch = Enumerable.Range(0, calls).Select(i => conversations[i % conversations.Length]).ToArray();
        var start = Stopwatch.GetTimestamp();
        await engine.ClassifyBatchAsync(batch, CancellationToken.None);
        var wall = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        Console.WriteLine(string.Create(inv, $"| {limit} | {wall:F0} | {calls * 1000 / wall:F0} | {engine.Statistics.PeakInFlight} |"));
    }
}
finally
{
    if (temp.Length > 0 && Directory.Exists(temp))
    {
        Directory.Delete(temp, recursive: true);
    }
}

static TimeSpan CpuTime()
{
    using var process = Process.GetCurrentProcess();
    return process.TotalProcessorTime;
}

static double Percentile(double[] sorted, double p)
{
    var rank = p / 100 * (sorted.Length - 1);
    var lo = (int)Math.Floor(rank);
    var hi = Math.Min(lo + 1, sorted.Length - 1);
    return sorted[lo] + ((sorted[hi] - sorted[lo]) * (rank - lo));
}

static string BuildTinyModel(string dir, LlamaConfig config, bool lastTokenLogitsOnly, bool sharedPrefix, bool fused)
{
    var js = TokenizerFixtures.FindJsDirectory();
    TokenizerFixtures.Node(js, "generate-fixtures.mjs");
    LlamaOnnxBuilder.Build(
        new RandomLlamaWeights(config, 1234, 0.5f),
        new LlamaBuildOptions
        {
            Family = GuardFamily.LlamaGuard1,
            ModelId = "bench/llamaguard-tiny-random",
            TokenizerSource = Path.Combine(js, "generated", "llama2", "tokenizer.json"),
            LastTokenLogitsOnly = lastTokenLogitsOnly,
            SharedPrefix = sharedPrefix,
            FusedOperators = fused,
        },
        dir);
    return dir;
}

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

int IntArg(string name, int fallback) => int.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

int[] IntListArg(string name, int[] fallback)
{
    var value = Arg(name, string.Empty);
    return value.Length == 0 ? fallback : [.. value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))];
}
