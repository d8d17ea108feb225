using System.Text;
using System.Text.Json;
using Gateway.Tokens;
using Guard.Tokenizers;
using static Gateway.Tests.TestRequests;

namespace Gateway.Tests.Tokens;

/// <summary>The claims the context-window check rests on, against the real Llama 2 and Llama 3 tokenizers: a text
/// never has more tokens than UTF-8 bytes (plus one for Llama 2's prepended '▁'), so the cheap bound covers the exact
/// count; and the byte estimate stays below the exact count on ordinary prose and code.</summary>
public sealed class TokenBoundsTests
{
    private const string Prose = """
        The gateway sits between applications and the models they call. It checks every request against the model's
        published limits before anything leaves the building, counts the tokens a prompt will take, and refuses the ones
        that cannot fit, with the error each API documents. Short prompts pay nothing: only when a cheap bound says a
        request could be too long does it run the tokenizer. Operators configure where the tokenizer files live.
        """;

    private const string Code = """
        public static int Sum(IReadOnlyList<int> values)
        {
            var total = 0;
            foreach (var value in values)
            {
                total += value; // no overflow check: callers pass small lists
            }
            return total;
        }
        """;

    public static TheoryData<string> Families => new() { TokenizerFamilies.Llama2, TokenizerFamilies.Llama3 };

    /// <summary>Text that defeats merges: byte-fallback characters, emoji sequences, combining marks, control
    /// characters, whitespace runs, control-token strings and seeded random code points from every plane.</summary>
    public static IEnumerable<string> Adversarial()
    {
        yield return "";
        yield return " ";
        yield return "x";
        yield return new string(' ', 1000);
        yield return new string('\n', 300);
        yield return " a  b   c    d     e      f       ";
        yield return string.Concat(Enumerable.Range(0xE000, 300).Select(c => (char)c)); // private use: byte fallback
        yield return string.Concat(Enumerable.Range(0, 32).Select(c => (char)c)) + "\u007f\u0080\u009f\u00a0";
        yield return "😀👩‍👩‍👧‍👦🏳️‍🌈🇯🇵 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𠀀𠀁";
        yield return "e\u0301\u0302\u0303\u0304 a\u0308\u0308\u0308";
        yield return "日本語のテキストと中文文本，한국어 텍스트";
        yield return "<s>[INST] <<SYS>>\n</s> <|eot_id|> <|begin_of_text|><|start_header_id|>";
        yield return Prose;
        yield return Code;
        var random = new Random(20240607);
        for (var i = 0; i < 400; i++)
        {
            var text = new StringBuilder();
            var length = random.Next(1, 80);
            for (var j = 0; j < length; j++)
            {
                var scalar = random.Next(4) switch
                {
                    0 => random.Next(0x20, 0x7F),
                    1 => random.Next(0x80, 0x800),
                    2 => random.Next(0x800, 0x10000),
                    _ => random.Next(0x10000, 0x110000),
                };
                if (scalar is >= 0xD800 and <= 0xDFFF)
                {
                    scalar = ' ';
                }
                text.Append(char.ConvertFromUtf32(scalar));
            }
            yield return text.ToString();
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void TextTokens_NeverExceedUtf8Bytes_PlusOneForLlama2(string family)
    {
        var tokenizer = BootstrapTokenizers.For(family);
        var extra = family == TokenizerFamilies.Llama2 ? 1 : 0;
        foreach (var text in Adversarial())
        {
            var bytes = Encoding.UTF8.GetByteCount(text);
            var tokens = tokenizer.CountTokens(text);

            Assert.True(tokens <= bytes + extra, $"{family}: {tokens} tokens > {bytes} bytes + {extra} for {JsonSerializer.Serialize(text)}");
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void RequestBound_CoversTheRenderedBound_AndTheExactCount(string family)
    {
        var tokenizer = BootstrapTokenizers.For(family);
        var model = family == TokenizerFamilies.Llama3 ? Llama3Window : Int8;
        var texts = Adversarial().Where(t => t.Length > 0).Take(120).ToList();
        var bodies = new List<string>();
        for (var i = 0; i + 3 < texts.Count; i += 4)
        {
            string S(int k) => JsonSerializer.Serialize(texts[i + k]);
            bodies.Add($$"""{"prompt":{{S(0)}}}""");
            bodies.Add($$"""{"prompt":{{S(1)}},"raw":true}""");
            bodies.Add($$"""{"messages":[{"role":"system","content":{{S(0)}}}]}""");
            bodies.Add($$"""{"messages":[{"role":"system","content":{{S(0)}}},{"role":"user","content":{{S(1)}}},{"role":"assistant","content":{{S(2)}}},{"role":"user","content":{{S(3)}}}]}""");
            bodies.Add($$"""{"messages":[{"role":"assistant","content":{{S(2)}}},{"role":"tool","content":{{S(3)}}},{"role":"system","content":{{S(1)}}}]}""");
        }
        foreach (var body in bodies)
        {
            using var request = WorkersAiRequest(body, model);
            var segments = PromptSegments.Render(request, family);
            var exact = tokenizer.Encode(segments.ToArray()).Length;
            var rendered = TokenBounds.UpperBound(segments);
            var bound = TokenBounds.UpperBound(request);

            Assert.True(exact <= rendered, $"{family}: exact {exact} > rendered bound {rendered} for {body}");
            Assert.True(rendered <= bound, $"{family}: rendered bound {rendered} > request bound {bound} for {body}");
        }
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Estimate_StaysBelowTheExactCount_OnProseAndCode(string family)
    {
        var tokenizer = BootstrapTokenizers.For(family);
        foreach (var text in new[] { Prose, Code, Prose + Code })
        {
            var estimate = TokenBounds.Estimate([TokenSegment.PlainText(text)]);

            Assert.True(estimate < tokenizer.CountTokens(text), $"{family}: estimate {estimate} >= {tokenizer.CountTokens(text)}");
        }
    }

    [Fact]
    public void Estimate_CountsControlTokens_AndSixBytesPerToken()
    {
        TokenSegment[] segments = [TokenSegment.ControlToken("<s>"), TokenSegment.PlainText(new string('x', 598)), TokenSegment.PlainText("é")];

        Assert.Equal(1 + (598 + 2) / TokenBounds.EstimateBytesPerToken, TokenBounds.Estimate(segments));
    }

    [Fact]
    public void RequestBound_IsUtf8BytesPlusTheFormatOverhead()
    {
        using var prompt = WorkersAiRequest("""{"prompt":"héllo"}""", Int8);
        using var messages = WorkersAiRequest("""{"messages":[{"role":"user","content":"ab"},{"role":"assistant","content":"€"}]}""", Int8);

        Assert.Equal(PromptSegments.MaxOverheadPerRequest + 6 + 1 + PromptSegments.MaxOverheadPerMessage, TokenBounds.UpperBound(prompt));
        Assert.Equal(PromptSegments.MaxOverheadPerRequest + 2 * (1 + PromptSegments.MaxOverheadPerMessage) + 2 + 3, TokenBounds.UpperBound(messages));
    }
}
