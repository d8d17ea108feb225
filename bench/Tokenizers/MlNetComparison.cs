// Microsoft.ML.Tokenizers against our tokenizers on the differential corpus: id agreement per kind, what it can load,
// and single-threaded throughput as a ratio. Writes a markdown report to stdout (docs/adr/007-hand-written-tokenizers.md).
//   dotnet run -c Release --project bench/Tokenizers -- --vs-mlnet [--passes N] [--examples N] [--throughput-only]
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Bench.Common;
using Guard.Tokenizers;
using Ml = Microsoft.ML.Tokenizers;

namespace Bench.Tokenizers;

internal static class MlNetComparison
{
    // Llama 3's pre-tokenizer pattern, as in its tokenizer.json and Meta's tiktoken reference code.
    private const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run(string[] args)
    {
        var passes = IntArg(args, "--passes", 5);
        var examples = IntArg(args, "--examples", 3);
        var js = TokenizerFixtures.FindJsDirectory();
        TokenizerFixtures.Node(js, "generate-fixtures.mjs");
        var generated = Path.Combine(js, "generated");
        var corpus = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(Path.Combine(generated, "corpus.json")));
        var texts = corpus.GetProperty("texts").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var kinds = corpus.GetProperty("kinds").EnumerateArray().Select(e => e.GetString()!).ToArray();
        var chars = texts.Sum(t => (long)t.Length);
        var version = typeof(Ml.Tokenizer).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().Single().InformationalVersion.Split('+')[0];

        Console.WriteLine(string.Create(Inv, $"Corpus: {texts.Length:N0} strings, {chars / 1e6:F1} M UTF-16 chars (tests/Guard.Tests/js/corpus.mjs, the differential test's corpus)."));
        Console.WriteLine(string.Create(Inv, $"Microsoft.ML.Tokenizers {version}; .NET {Environment.Version}; {Environment.ProcessorCount} cores; one thread; best of {passes} alternating passes per side after a warm-up pass, process CPU time; load average {LoadAverage()}."));
        Console.WriteLine();

        var ours2 = TokenizerLoader.Load(Path.Combine(generated, "llama2"));
        var ours3 = TokenizerLoader.Load(Path.Combine(generated, "llama3"));
        var modelPath = Path.Combine(generated, "llama2-sentencepiece", "tokenizer.model");
        Ml.SentencePieceTokenizer ml2;
        using (var stream = File.OpenRead(modelPath))
        {
            ml2 = Ml.LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
        }

        var llama3Json = Path.Combine(generated, "llama3", "tokenizer.json");
        var ml3 = CreateTiktoken(llama3Json);
        var ml3Bpe = CreateByteLevelBpe(llama3Json);

        var rows = new List<Row>
        {
            new("llama2", "LlamaTokenizer.Create(tokenizer.model)", ours2, t => ml2.EncodeToIds(t, addBeginningOfSentence: false, addEndOfSentence: false)),
            new("llama3", "TiktokenTokenizer.Create(tiktoken vocabulary, RegexPreTokenizer(Llama 3 pattern))", ours3, t => ml3.EncodeToIds(t)),
            new("llama3", "BpeTokenizer.Create(vocab + merges, ByteLevel, RegexPreTokenizer(Llama 3 pattern))", ours3, t => ml3Bpe.EncodeToIds(t)),
        };

        var throughputOnly = args.Contains("--throughput-only");
        if (!throughputOnly)
        {
            Agreement(rows, texts, kinds, examples);
            Console.WriteLine("### Loading a Llama 2 tokenizer.json (BPE with byte_fallback)");
            Console.WriteLine();
            ReportTokenizerJson(Path.Combine(generated, "llama2", "tokenizer.json"), ours2, texts, kinds);
            Console.WriteLine();
        }

        Throughput(rows, texts, chars, passes);
        Console.WriteLine();
        Console.WriteLine($"Load average at the end: {LoadAverage()}.");
    }

    private static void Agreement(List<Row> rows, string[] texts, string[] kinds, int examples)
    {
        Console.WriteLine("### Id agreement (strings whose ids differ from ours; ours equal the npm oracles and, for Llama 2, SentencePiece)");
        Console.WriteLine();
        var kindNames = kinds.Distinct().ToArray();
        Console.WriteLine($"| family | Microsoft.ML.Tokenizers | differing strings | of which outside the BMP | of which with a run | {string.Join(" | ", kindNames)} |");
        Console.WriteLine($"|---|---|---:|---:|---:|{string.Concat(kindNames.Select(_ => "---:|"))}");
        var exampleLines = new List<string>();
        foreach (var row in rows)
        {
            var perKind = kindNames.ToDictionary(k => k, _ => 0);
            var shown = 0;
            var total = 0;
            var outsideBmp = 0;
            var withRun = 0;
            for (var i = 0; i < texts.Length; i++)
            {
                var expected = row.Ours.Encode(texts[i], addBos: false);
                int[] actual;
                try
                {
                    actual = [.. row.Theirs(texts[i])];
                }
                catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or IndexOutOfRangeException)
                {
                    actual = [-1];
                }

                if (!actual.AsSpan().SequenceEqual(expected))
                {
                    total++;
                    perKind[kinds[i]]++;
                    outsideBmp += HasCharOutsideBmp(texts[i]) ? 1 : 0;
                    withRun += HasRun(texts[i]) ? 1 : 0;
                    if (shown++ < examples)
                    {
                        exampleLines.Add(Describe(row.Family, i, kinds[i], texts[i], expected, actual));
                    }
                }
            }

            var cells = string.Join(" | ", kindNames.Select(k => perKind[k].ToString("N0", Inv)));
            Console.WriteLine(string.Create(Inv, $"| {row.Family} | `{row.Api}` | {total:N0} ({100.0 * total / texts.Length:F2}%) | {outsideBmp:N0} | {withRun:N0} | {cells} |"));
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(Inv, $"\"Outside the BMP\": the string has a code point above U+FFFF; \"a run\": the same code point three or more times in a row. In the whole corpus: {texts.Count(HasCharOutsideBmp):N0} and {texts.Count(HasRun):N0} strings."));
        Console.WriteLine("Strings per kind: " + string.Join(", ", kindNames.Select(k => string.Create(Inv, $"{k} {kinds.Count(x => x == k):N0}"))) + ".");
        Console.WriteLine();
        Console.WriteLine("First differing strings:");
        Console.WriteLine();
        Console.WriteLine("```");
        exampleLines.ForEach(Console.WriteLine);
        Console.WriteLine("```");
        Console.WriteLine();

    }

    private static void Throughput(List<Row> rows, string[] texts, long chars, int passes)
    {
        Console.WriteLine("### Throughput (same strings, one thread, ids into a list)");
        Console.WriteLine();
        Console.WriteLine("| family | Microsoft.ML.Tokenizers | ours CPU ms | theirs CPU ms | ours M chars/s | theirs M chars/s | theirs / ours |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            var ids = new List<int>(1 << 16);
            var (ours, theirs) = BestOfInterleaved(
                passes,
                texts,
                t =>
                {
                    ids.Clear();
                    row.Ours.EncodeTo(t, ids);
                },
                t => row.Theirs(t));
            Console.WriteLine(string.Create(Inv, $"| {row.Family} | `{row.Api}` | {ours:F0} | {theirs:F0} | {chars / 1e3 / ours:F1} | {chars / 1e3 / theirs:F1} | {theirs / ours:F1}x |"));
        }
    }

    /// <summary>Llama 3 the documented way: a tiktoken vocabulary (base64 bytes and rank, as Meta ships it) with the pattern.</summary>
    private static Ml.TiktokenTokenizer CreateTiktoken(string tokenizerJson)
    {
        var byteOf = ByteLevelDecoder();
        var sb = new StringBuilder();
        foreach (var (piece, id) in Vocabulary(tokenizerJson))
        {
            var bytes = piece.Select(c => byteOf[c]).ToArray();
            sb.Append(Convert.ToBase64String(bytes)).Append(' ').Append(id.ToString(Inv)).Append('\n');
        }

        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(sb.ToString()));
        // No special tokens: user text is always text (ADR 003), as in the differential test's oracle call.
        return Ml.TiktokenTokenizer.Create(stream, new Ml.RegexPreTokenizer(new Regex(Llama3Pattern, RegexOptions.Compiled), null), normalizer: null);
    }

    /// <summary>Llama 3 as Hugging Face describes it: byte-level BPE over the vocabulary and merges of tokenizer.json.</summary>
    private static Ml.BpeTokenizer CreateByteLevelBpe(string tokenizerJson)
    {
        var model = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(tokenizerJson)).GetProperty("model");
        return Ml.BpeTokenizer.Create(new Ml.BpeOptions(Vocabulary(tokenizerJson).Select(v => new KeyValuePair<string, int>(v.Piece, v.Id)))
        {
            Merges = model.GetProperty("merges").EnumerateArray().Select(m => m.ValueKind == JsonValueKind.Array ? $"{m[0].GetString()} {m[1].GetString()}" : m.GetString()!).ToList(),
            ByteLevel = true,
            PreTokenizer = new Ml.RegexPreTokenizer(new Regex(Llama3Pattern, RegexOptions.Compiled), null),
        });
    }

    private static void ReportTokenizerJson(string path, ITokenizer ours, string[] texts, string[] kinds)
    {
        // 1. The only file-based Llama loader reads a SentencePiece ModelProto.
        try
        {
            using var stream = File.OpenRead(path);
            Ml.LlamaTokenizer.Create(stream, addBeginOfSentence: false, addEndOfSentence: false);
            Console.WriteLine("- `LlamaTokenizer.Create(tokenizer.json)`: loaded.");
        }
        catch (Exception ex)
        {
            Console.WriteLine($"- `LlamaTokenizer.Create(tokenizer.json)`: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
        }

        var byteFallback = typeof(Ml.BpeOptions).GetProperties().Any(p => p.Name.Contains("Fallback", StringComparison.OrdinalIgnoreCase));
        Console.WriteLine($"- `BpeOptions` has a byte-fallback setting: {(byteFallback ? "yes" : "no")}; no API takes a tokenizer.json.");

        // 2. The closest assembly by hand: the file's vocabulary and merges in a BpeTokenizer, with SentencePiece's
        //    normalizer (dummy prefix, spaces as U+2581) and <unk>; characters outside the vocabulary cannot fall back to bytes.
        var model = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(path)).GetProperty("model");
        var bpe = Ml.BpeTokenizer.Create(new Ml.BpeOptions(Vocabulary(path).Select(v => new KeyValuePair<string, int>(v.Piece, v.Id)))
        {
            Merges = model.GetProperty("merges").EnumerateArray().Select(m => m.GetString()!).ToList(),
            Normalizer = new Ml.SentencePieceNormalizer(removeExtraWhiteSpaces: false, addDummyPrefix: true, escapeWhiteSpaces: true, treatWhitespaceAsSuffix: false, specialTokens: null),
            UnknownToken = "<unk>",
            FuseUnknownTokens = true,
            PreTokenizer = new Ml.RegexPreTokenizer(new Regex(@"(?s).+"), null), // one piece, as SentencePiece (the default splits words)
        });
        var differ = 0;
        var withUnk = 0;
        var perKind = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < texts.Length; i++)
        {
            var actual = bpe.EncodeToIds(texts[i]).ToArray();
            if (!actual.AsSpan().SequenceEqual(ours.Encode(texts[i], addBos: false)))
            {
                differ++;
                perKind[kinds[i]] = perKind.GetValueOrDefault(kinds[i]) + 1;
                withUnk += actual.Contains(0) ? 1 : 0;
                if (differ <= 2)
                {
                    Console.WriteLine("  " + Describe("llama2 tokenizer.json", i, kinds[i], texts[i], ours.Encode(texts[i], addBos: false), actual).Replace("\n", "\n  ", StringComparison.Ordinal));
                }
            }
        }

        Console.WriteLine(string.Create(Inv, $"- Assembled by hand (`BpeTokenizer.Create(BpeOptions(vocab){{Merges, Normalizer = SentencePieceNormalizer, UnknownToken = \"<unk>\"}})`): {differ:N0} of {texts.Length:N0} strings ({100.0 * differ / texts.Length:F2}%) differ, {withUnk:N0} of them with `<unk>` (id 0) where byte tokens belong; by kind: {string.Join(", ", perKind.Select(p => $"{p.Key} {p.Value:N0}"))}."));
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static bool HasCharOutsideBmp(string text) => text.EnumerateRunes().Any(r => !r.IsBmp);

    private static bool HasRun(string text)
    {
        var (previous, count) = (-1, 0);
        foreach (var rune in text.EnumerateRunes())
        {
            count = rune.Value == previous ? count + 1 : 1;
            previous = rune.Value;
            if (count >= 3)
            {
                return true;
            }
        }

        return false;
    }

    private static List<(string Piece, int Id)> Vocabulary(string tokenizerJson)
    {
        var model = JsonSerializer.Deserialize<JsonElement>(File.ReadAllText(tokenizerJson)).GetProperty("model");
        return [.. model.GetProperty("vocab").EnumerateObject().Select(p => (p.Name, p.Value.GetInt32())).OrderBy(p => p.Item2)];
    }

    /// <summary>GPT-2's byte-level alphabet, character to byte.</summary>
    private static Dictionary<char, byte> ByteLevelDecoder()
    {
        var map = new Dictionary<char, byte>();
        var n = 0;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= '¡' and <= '¬' or >= '®' and <= 'ÿ';
            map[printable ? (char)b : (char)(256 + n++)] = (byte)b;
        }

        return map;
    }

    /// <summary>
    /// Best pass of each side in process CPU time, after a warm-up pass of each; the passes alternate (ours, theirs,
    /// ours, ...) so that a change in the machine's load during the run falls on both sides alike.
    /// </summary>
    private static (double A, double B) BestOfInterleaved(int passes, string[] texts, Action<string> a, Action<string> b)
    {
        Pass(texts, a); // warm-up: JIT and caches
        Pass(texts, b);
        var (bestA, bestB) = (double.MaxValue, double.MaxValue);
        for (var p = 0; p < passes; p++)
        {
            bestA = Math.Min(bestA, Pass(texts, a));
            bestB = Math.Min(bestB, Pass(texts, b));
        }

        return (bestA, bestB);
    }

    private static double Pass(string[] texts, Action<string> encode)
    {
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        foreach (var t in texts)
        {
            encode(t);
        }

        process.Refresh();
        return (process.TotalProcessorTime - cpu).TotalMilliseconds;
    }

    private static string Describe(string family, int index, string kind, string text, int[] expected, int[] actual)
    {
        var first = 0;
        while (first < Math.Min(expected.Length, actual.Length) && expected[first] == actual[first])
        {
            first++;
        }

        string Window(int[] ids) => string.Join(", ", ids.Skip(Math.Max(0, first - 2)).Take(8));
        return $"{family} #{index} ({kind}, {text.Length} chars) {Escape(text, 80)}\n  ours   [.. {Window(expected)} ..]\n  theirs [.. {Window(actual)} ..]  first difference at id {first}";
    }

    private static string Escape(string text, int max)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in text.Length > max ? text[..max] : text)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                _ when char.IsControl(c) || char.IsSurrogate(c) || c > 0x7E => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        }

        return sb.Append(text.Length > max ? "\"..." : "\"").ToString();
    }

    private static int IntArg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], Inv) : fallback;
    }

    private sealed record Row(string Family, string Api, ITokenizer Ours, Func<string, IReadOnlyList<int>> Theirs);
}
