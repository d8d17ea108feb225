using System.Globalization;
using System.Text;
using Guard.Tokenizers;

namespace Guard.Tests.Tokenizers;

/// <summary>
/// The C# tokenizers against independent JavaScript implementations (npm llama-tokenizer-js, llama3-tokenizer-js) on
/// a generated corpus: identical ids for every string, and decode(encode(x)) == x.
/// </summary>
[Collection(TokenizerTestGroup.Name)]
public sealed class DifferentialTests(TokenizerFixture fixture)
{
    public static TheoryData<string> Families => new() { "llama2", "llama2-sentencepiece", "llama3" };

    [Fact]
    public void Corpus_HasAtLeastTenThousandStringsOfEveryKind()
    {
        var corpus = fixture.Corpus;
        Assert.True(corpus.Texts.Length >= 10_000, $"{corpus.Texts.Length} strings");
        foreach (var kind in new[] { "ascii", "accents", "cjk", "emoji", "combining", "control", "whitespace", "code", "numbers", "special", "mixed" })
        {
            Assert.True(corpus.Kinds.Count(k => k == kind) >= 10_000, kind);
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Encode_MatchesJavaScriptOracle_OnWholeCorpus(string family)
    {
        var tokenizer = Tokenizer(family);
        var oracle = fixture.ReadOracle(family.StartsWith("llama2", StringComparison.Ordinal) ? "llama2" : "llama3");
        var texts = fixture.Corpus.Texts;
        Assert.Equal(texts.Length, oracle.Ids.Length);

        var mismatches = new List<string>();
        var count = 0;
        for (var i = 0; i < texts.Length; i++)
        {
            var actual = tokenizer.Encode(texts[i], addBos: false);
            if (!actual.AsSpan().SequenceEqual(oracle.Ids[i]))
            {
                if (++count <= 10)
                {
                    mismatches.Add(Describe(i, texts[i], fixture.Corpus.Kinds[i], oracle.Ids[i], actual));
                }
            }
        }

        Assert.True(count == 0, $"{count} of {texts.Length} strings differ from {oracle.Package} {oracle.Call}:\n{string.Join("\n", mismatches)}");
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void DecodeOfEncode_ReturnsTheText_OnWholeCorpus(string family)
    {
        var tokenizer = Tokenizer(family);
        var failures = new List<string>();
        var count = 0;
        foreach (var text in fixture.Corpus.Texts)
        {
            var decoded = tokenizer.Decode(tokenizer.Encode(text, addBos: false));
            if (decoded != text && ++count <= 10)
            {
                failures.Add($"{Escape(text)} -> {Escape(decoded)}");
            }
        }

        Assert.True(count == 0, $"{count} strings do not survive a round trip:\n{string.Join("\n", failures)}");
    }

    [Fact]
    public void Llama3Segments_MatchJavaScriptParsingOfRealSpecialTokens()
    {
        // llama3-tokenizer-js by default turns real special-token text into control ids; a template that marks the
        // same tokens as ControlToken segments must give those ids (Hugging Face splits the same way).
        var oracle = fixture.ReadOracle("llama3");
        Assert.NotNull(oracle.SpecialIds);
        Assert.NotEmpty(oracle.SpecialIds);
        var specialPattern = new System.Text.RegularExpressions.Regex(
            @"<\|(?:begin_of_text|end_of_text|start_header_id|end_header_id|eot_id|eom_id|python_tag|finetune_right_pad_id|reserved_special_token_(?:[0-9]|[1-9][0-9]|1[0-9][0-9]|2[0-3][0-9]|24[0-7]))\|>");
        foreach (var (key, expected) in oracle.SpecialIds)
        {
            var text = fixture.Corpus.Texts[int.Parse(key, CultureInfo.InvariantCulture)];
            var segments = new List<TokenSegment>();
            var at = 0;
            foreach (System.Text.RegularExpressions.Match m in specialPattern.Matches(text))
            {
                segments.Add(TokenSegment.PlainText(text[at..m.Index]));
                segments.Add(TokenSegment.ControlToken(m.Value));
                at = m.Index + m.Length;
            }

            segments.Add(TokenSegment.PlainText(text[at..]));
            Assert.Equal(expected, fixture.Llama3.Encode(segments.ToArray()));
            // The plain-text API never yields a control id for the same text.
            Assert.DoesNotContain(fixture.Llama3.Encode(text, addBos: false), id => id >= 128000);
        }
    }

    private ITokenizer Tokenizer(string family) => family switch
    {
        "llama2" => fixture.Llama2,
        "llama2-sentencepiece" => fixture.Llama2SentencePiece,
        _ => fixture.Llama3,
    };

    private static string Describe(int index, string text, string kind, int[] expected, int[] actual)
    {
        var firstDiff = 0;
        while (firstDiff < Math.Min(expected.Length, actual.Length) && expected[firstDiff] == actual[firstDiff])
        {
            firstDiff++;
        }

        return $"#{index} ({kind}) {Escape(text)}\n  expected [{string.Join(", ", expected)}]\n  actual   [{string.Join(", ", actual)}]\n  first difference at {firstDiff}";
    }

    internal static string Escape(string text)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in text.Length > 300 ? text[..300] : text)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when char.IsControl(c) || char.IsSurrogate(c) || c > 0x7E => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        }

        return sb.Append(text.Length > 300 ? "\"..." : "\"").ToString();
    }
}
