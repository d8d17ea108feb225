// Tokenizer throughput: the C# tokenizers against the JavaScript ones (npm llama-tokenizer-js, llama3-tokenizer-js) on
// the differential corpus of tests/Guard.Tests/js, single-threaded, as a ratio. Writes a markdown report to stdout.
//   dotnet run -c Release --project bench/Tokenizers -- [--passes N] [--js-passes N] [--families llama2,llama3] [--by-kind]
//   dotnet run -c Release --project bench/Tokenizers -- --vs-mlnet [--passes N]   Microsoft.ML.Tokenizers instead (MlNetComparison.cs)
// Needs `./eng/bootstrap.sh --tests` (the npm packages); the corpus and tokenizer files are generated on first use.
// Each side reports its best pass (after a warm-up pass) in process CPU time, which other processes on a busy machine
// disturb far less than wall-clock time; wall-clock times are shown beside it.
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Bench.Common;
using Guard.Tokenizers;

if (args.Contains("--vs-mlnet"))
{
    Bench.Tokenizers.MlNetComparison.Run(args);
    return;
}

var passes = IntArg("--passes", 5);
var jsPasses = IntArg("--js-passes", 3);
var families = Arg("--families", "llama2,llama3").Split(',');
var inv = CultureInfo.InvariantCulture;
var js = TokenizerFixtures.FindJsDirectory();
TokenizerFixtures.Node(js, "generate-fixtures.mjs");
var corpus = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(Path.Combine(js, "generated", "corpus.json")));
var texts = corpus.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray();
var kinds = corpus.GetProperty("kinds").EnumerateArray().Select(e => e.GetString()!).ToArray();
var chars = texts.Sum(t => (long)t.Length);
var jsResult = jsPasses > 0
    ? JsonSerializer.Deserialize<JsonElement>(TokenizerFixtures.Node(js, $"bench.mjs --passes {jsPasses} --families {string.Join(',', families)}"))
    : default;

Console.WriteLine(string.Create(inv, $"Corpus: {texts.Length:N0} strings, {chars / 1e6:F1} M UTF-16 chars (tests/Guard.Tests/js/corpus.mjs: 11 kinds x 10,000 + edge cases)."));
Console.WriteLine(string.Create(inv, $"Machine: {Environment.ProcessorCount} cores, .NET {Environment.Version}, node {TokenizerFixtures.Node(js, "--version").Trim()}; one thread; best of {passes} C# and {jsPasses} JS passes after a warm-up pass."));
Console.WriteLine();
Console.WriteLine("| family | tokens | JS CPU ms | C# CPU ms (warm cache) | C# CPU ms (cold cache) | JS wall ms | C# wall ms (warm) | C# M chars/s (warm) | ratio warm | ratio cold |");
Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var family in families)
{
    var dir = Path.Combine(js, "generated", family);
    var warm = TokenizerLoader.Load(dir);
    long tokens = 0;
    foreach (var t in texts)
    {
        tokens += warm.CountTokens(t); // warm-up: JIT and the piece cache
    }

    var warmRuns = Enumerable.Range(0, passes).Select(_ => Time(warm, texts)).ToArray();
    // Cold cache: a fresh instance (the code already JIT-compiled) encoding the corpus once.
    var coldRuns = Enumerable.Range(0, passes).Select(_ => Time(TokenizerLoader.Load(dir), texts)).ToArray();
    var (warmCpu, warmWall) = (warmRuns.Min(r => r.CpuMs), warmRuns.Min(r => r.WallMs));
    var coldCpu = coldRuns.Min(r => r.CpuMs);
    var jsCpu = double.NaN;
    var jsWall = double.NaN;
    if (jsPasses > 0)
    {
        var j = jsResult.GetProperty(family);
        jsCpu = j.GetProperty("cpuMs").EnumerateArray().Min(e => e.GetDouble());
        jsWall = j.GetProperty("passesMs").EnumerateArray().Min(e => e.GetDouble());
        if (j.GetProperty("tokens").GetInt64() != tokens)
        {
            throw new InvalidOperationException($"{family}: JS produced {j.GetProperty("tokens").GetInt64()} tokens, C# {tokens}");
        }
    }

    Console.WriteLine(string.Create(inv, $"| {family} | {tokens:N0} | {jsCpu:F0} | {warmCpu:F0} | {coldCpu:F0} | {jsWall:F0} | {warmWall:F0} | {chars / 1e3 / warmCpu:F1} | {jsCpu / warmCpu:F1}x | {jsCpu / coldCpu:F1}x |"));
}

if (args.Contains("--by-kind"))
{
    Console.WriteLine();
    Console.WriteLine("| family | kind | M chars | C# CPU ms (warm) | M chars/s |");
    Console.WriteLine("|---|---|---:|---:|---:|");
    foreach (var family in families)
    {
        var tokenizer = TokenizerLoader.Load(Path.Combine(js, "generated", family));
        Time(tokenizer, texts);
        foreach (var kind in kinds.Distinct())
        {
            var subset = texts.Where((_, i) => kinds[i] == kind).ToArray();
            var subsetChars = subset.Sum(t => (long)t.Length);
            var ms = Enumerable.Range(0, passes).Min(_ => Time(tokenizer, subset).CpuMs);
            Console.WriteLine(string.Create(inv, $"| {family} | {kind} | {subsetChars / 1e6:F2} | {ms:F1} | {subsetChars / 1e3 / ms:F1} |"));
        }
    }
}

static (double CpuMs, double WallMs) Time(ITokenizer tokenizer, string[] texts)
{
    var ids = new List<int>(1 << 16);
    using var process = Process.GetCurrentProcess();
    var cpu = process.TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    foreach (var t in texts)
    {
        ids.Clear();
        tokenizer.EncodeTo(t, ids);
    }

    var wall = sw.Elapsed.TotalMilliseconds;
    process.Refresh();
    return ((process.TotalProcessorTime - cpu).TotalMilliseconds, wall);
}

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}

int IntArg(string name, int fallback) => int.Parse(Arg(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
