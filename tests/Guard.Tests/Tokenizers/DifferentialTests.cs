using System.Globalization;
using System.Text;
using Guard.Tokenizers;

namespace Guard.Tests.Tokenizers;

/// <summary>
/// The C# tokenizers against independent implementations on a generated corpus: the JavaScript ones (npm
/// llama-tokenizer-js, llama3-tokenizer-js) and, for Llama 2, Google's C++ SentencePiece; identical ids for every
/// string, and decode(encode(x)) == x.
/// </summary>
[Collection(TokenizerTestGroup.Name)]
public sealed class DifferentialTests(TokenizerFixture fixture)
{
    public static TheoryData<string> Families => new() { "llama2", "llama2-sentencepiece", "llama3" };

    /// <summary>Gets our Llama 2 tokenizer as loaded from tokenizer.json and from tokenizer.model.</summary>
    public static TheoryData<string> Llama2Families => new() { "llama2", "llama2-sentencepiece" };

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
        var oracle = fixture.ReadOracle(family.StartsWith("llama2", StringComparison.Ordinal) ? "llama2" : "llama3");
        AssertSameIds(oracle, i => Tokenizer(family).Encode(fixture.Corpus.Texts[i], addBos: false), "ours");
    }

    /// <summary>
    /// Google's SentencePiece (the C++ library, Debian's python3-sentencepiece; ids computed once by
    /// js/sentencepiece-oracle.py) on the Llama 2 vocabulary as a SentencePiece model (generated
    /// llama2-sentencepiece/tokenizer.model, with Llama 2's normalizer spec: identity, add_dummy_prefix, extra
    /// whitespace kept, spaces escaped as U+2581). The three sides are called alike: SentencePiece's
    /// <c>encode(text)</c> adds no BOS unless asked and prepends the U+2581 dummy prefix because the model says so;
    /// llama-tokenizer-js' <c>encode(text, false, true)</c> adds no BOS and prepends a space; ours,
    /// <c>Encode(text, addBos: false)</c>, prepends U+2581 (the tokenizer.json Prepend normalizer, or the model's
    /// add_dummy_prefix). All three return no ids for the empty string.
    /// </summary>
    [Theory]
    [MemberData(nameof(Llama2Families))]
    public void Encode_MatchesSentencePieceOracle_OnWholeCorpus(string family)
    {
        AssertSameIds(fixture.SentencePieceOracle, i => Tokenizer(family).Encode(fixture.Corpus.Texts[i], addBos: false), "ours");
    }

    /// <summary>The two Llama 2 oracles agree with each other: when one of the tests above fails, this tells which side is off.</summary>
    [Fact]
    public void SentencePieceOracle_MatchesJavaScriptOracle_OnWholeCorpus()
    {
        var javaScript = fixture.ReadOracle("llama2");
        AssertSameIds(fixture.SentencePieceOracle, i => javaScript.Ids[i], javaScript.Package);
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

    private void AssertSameIds(Oracle oracle, Func<int, int[]> encode, string actualName)
    {
        var texts = fixture.Corpus.Texts;
        Assert.Equal(texts.Length, oracle.Ids.Length);

        var mismatches = new List<string>();
        var count = 0;
        for (var i = 0; i < texts.Length; i++)
        {
            var actual = encode(i);
            if (!actual.AsSpan().SequenceEqual(oracle.Ids[i]) && ++count <= 10)
            {
                mismatches.Add(Describe(i, texts[i], fixture.Corpus.Kinds[i], oracle.Ids[i], actual));
            }
        }

        Assert.True(count == 0, $"{count} of {texts.Length} strings: {actualName} differs from {oracle.Package} {oracle.Call}:\n{string.Join("\n", mismatches)}");
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
