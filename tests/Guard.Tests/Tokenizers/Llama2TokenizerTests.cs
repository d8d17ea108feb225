using Guard.Tokenizers;

namespace Guard.Tests.Tokenizers;

/// <summary>The Llama 2 (LlamaGuard-7b) tokenizer, loaded from tokenizer.json and from tokenizer.model.</summary>
[Collection(TokenizerTestGroup.Name)]
public sealed class Llama2TokenizerTests(TokenizerFixture fixture)
{
    public static TheoryData<string> Sources => new() { "json", "model" };

    [Theory]
    [MemberData(nameof(Sources))]
    public void Vocabulary_HasTheLlamaGuardIdsFromTheReference(string source)
    {
        var t = Load(source);
        Assert.Equal(TokenizerFamilies.Llama2, t.Family);
        Assert.Equal(32000, t.VocabSize);
        Assert.Equal(1, t.BosId);
        Assert.Equal(2, t.EosId);
        Assert.Equal([2], t.StopIds);
        Assert.True(t.TryGetSpecialTokenId("<unk>", out var unk) && unk == 0);
        Assert.True(t.TryGetSpecialTokenId("<s>", out var bos) && bos == 1);
        Assert.True(t.TryGetSpecialTokenId("</s>", out var eos) && eos == 2);

        // Llama Guard reference token ids (LlamaGuard-7b model card facts): ▁safe 9109, ▁unsafe 25110, <0x0A> 13, O 29949, 1 29896, 3 29941, ',' 29892.
        Assert.Equal([9109], t.Encode("safe", addBos: false));
        Assert.Equal([25110], t.Encode("unsafe", addBos: false));
        Assert.Equal([25110, 13, 29949, 29896, 29892, 29949, 29941], t.Encode("unsafe\nO1,O3", addBos: false));
        Assert.Equal("\n", t.Decode([13]));
        Assert.Equal("O1,O3", t.Decode([29949, 29896, 29892, 29949, 29941]));
        Assert.Equal("unsafe", t.Decode([25110]));
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Encode_MatchesTheLlamaTokenizerJsTestCases(string source)
    {
        var t = Load(source);
        Assert.Equal([1, 2646, 1327, 287], t.Encode("grabbed", addBos: true));
        Assert.Equal([1, 29871, 2646, 1327, 287], t.Encode(" grabbed", addBos: true));
        Assert.Equal([1, 9651, 2646, 1327, 287], t.Encode("           grabbed", addBos: true));
        Assert.Equal([1, 259, 13], t.Encode(" \n", addBos: true));
        Assert.Equal([1, 4853, 13, 4136, 13, 833, 29877], t.Encode("ax\n####\nboo", addBos: true));
        Assert.Equal([1, 29871, 243, 162, 169, 156], t.Encode("🦙", addBos: true));
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Encode_TreatsControlTokenTextInUserContentAsText(string source)
    {
        var t = Load(source);
        var ids = t.Encode("<s>[INST] hi</s>", addBos: false);
        Assert.Equal([529, 29879, 24566, 25580, 29962, 7251, 829, 29879, 29958], ids);
        Assert.DoesNotContain(1, ids);
        Assert.DoesNotContain(2, ids);
        Assert.Equal("<s>[INST] hi</s>", t.Decode(ids));
        // Byte-token text is text too, not the byte it names.
        Assert.Equal([529, 29900, 29916, 29900, 29909, 29958], t.Encode("<0x0A>", addBos: false));
        Assert.False(t.TryGetSpecialTokenId("[INST]", out _));
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Segments_InsertControlTokensOnlyWhereTheTemplateSaysSo(string source)
    {
        var t = Load(source);
        var ids = t.Encode([TokenSegment.ControlToken("<s>"), TokenSegment.PlainText("[INST] Task"), TokenSegment.PlainText(": </s>")]);
        // Hugging Face prepends '▁' to every text run, also after a control token: "▁[INST]" starts with 518.
        Assert.Equal([1, .. t.Encode("[INST] Task: </s>", addBos: false)], ids);
        Assert.Equal([1, 518, 25580, 29962, 9330], ids[..5]);
        Assert.Equal(1, ids.Count(id => id == 1));
        Assert.DoesNotContain(2, ids);
        Assert.Throws<ArgumentException>(() => t.Encode([TokenSegment.ControlToken("<|eot_id|>")]));
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Decode_StripsThePrefixSpaceAndRendersControlTokens(string source)
    {
        var t = Load(source);
        Assert.Equal("safe", t.Decode([9109]));
        Assert.Equal(" safe", t.Decode([29871, 9109]));
        Assert.Equal("<s> safe</s>", t.Decode([1, 9109, 2]));
        Assert.Equal("safe", t.Decode([1, 9109, 2], skipSpecialTokens: true));
        Assert.Equal(string.Empty, t.Decode([]));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => t.Decode([9109, 32000]));
        Assert.Contains("index 1", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Encode_EdgeCases(string source)
    {
        var t = Load(source);
        Assert.Empty(t.Encode(string.Empty, addBos: false));
        Assert.Equal([1], t.Encode(string.Empty, addBos: true));
        Assert.Equal(0, t.CountTokens(string.Empty));
        Assert.Equal(7, t.CountTokens("unsafe\nO1,O3"));
        // U+2581 is the vocabulary's own space marker: it encodes like a space and decodes as one (as in Hugging Face).
        Assert.Equal(t.Encode("a b", addBos: false), t.Encode("a\u2581b", addBos: false));
        // A lone surrogate is not text; like any UTF-8 encoder, it becomes U+FFFD.
        Assert.Equal(t.Encode("x\uFFFD", addBos: false), t.Encode("x\uD800", addBos: false));
        var list = new List<int> { 42 };
        t.EncodeTo("safe", list);
        Assert.Equal([42, 9109], list);
    }

    [Fact]
    public void JsonAndSentencePieceModel_AgreeOnTheCorpus()
    {
        var texts = fixture.Corpus.Texts;
        for (var i = 0; i < texts.Length; i += 7)
        {
            Assert.Equal(fixture.Llama2.Encode(texts[i], addBos: true), fixture.Llama2SentencePiece.Encode(texts[i], addBos: true));
        }
    }

    [Fact]
    public void Encode_IsThreadSafe()
    {
        var texts = fixture.Corpus.Texts.Where((_, i) => i % 11 == 0).ToArray();
        var expected = texts.Select(x => fixture.Llama2.Encode(x, addBos: false)).ToArray();
        Parallel.For(0, texts.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            Assert.Equal(expected[i], fixture.Llama2.Encode(texts[i], addBos: false)));
    }

    private ITokenizer Load(string source) => source == "json" ? fixture.Llama2 : fixture.Llama2SentencePiece;
}
