using System.Text.Json.Nodes;
using Guard.Tokenizers;

namespace Guard.Tests.Tokenizers;

/// <summary>Loading: the family is recognised, and bad input fails with an error naming the file and the field.</summary>
[Collection(TokenizerTestGroup.Name)]
public sealed class TokenizerLoaderTests(TokenizerFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("guard-tokenizer-tests-").FullName;

    public static TheoryData<string, string?, string> Llama2JsonBreakages => new()
    {
        { "no-model", "model", "missing" },
        { "unigram", "model.type", "'Unigram' is not supported" },
        { "vocab-string-id", "model.vocab[\"a\"]", "non-negative integer token id" },
        { "vocab-duplicate-id", "model.vocab[\"b\"]", "also the id of 'a'" },
        { "vocab-empty", "model.vocab", "is empty" },
        { "merge-no-space", "model.merges[0]", "expected \"left right\"" },
        { "merge-unknown-token", "model.merges[1]", "'c' is not in model.vocab" },
        { "merge-result-missing", "model.merges[0]", "'ba', which is not in model.vocab" },
        { "no-unk", "model.unk_token", "missing" },
        { "nfkc", "normalizer.normalizers[2].type", "normalizer 'NFKC' is not supported" },
        { "no-normalizer", "pre_tokenizer", "unknown tokenizer family" },
        { "non-special-added", "added_tokens[1].special", "non-special added token" },
        { "added-id-mismatch", "added_tokens[0]", "has id 5 but model.vocab gives it 0" },
        { "root-array", null, "expected a JSON object" },
    };

    public static TheoryData<string, string, string> Llama3JsonBreakages => new()
    {
        { "other-regex", "pre_tokenizer.pretokenizers[0].pattern.Regex", "only the Llama 3 pattern is supported" },
        { "use-regex", "pre_tokenizer.pretokenizers[1].use_regex", "must be false" },
        { "gpt2", "pre_tokenizer", "GPT-2-style" },
        { "missing-byte", "model.vocab", "no token for byte 0x41" },
        { "not-byte-level", "model.vocab[\"中\"]", "outside GPT-2's byte alphabet" },
        { "normalizer", "normalizer.type", "normalizer 'NFC' is not supported" },
    };

    public static TheoryData<string, string, string> SentencePieceBreakages => new()
    {
        { "unigram", "trainer_spec.model_type", "UNIGRAM is not supported" },
        { "unk-not-unknown", "trainer_spec.unk_id", "expected UNKNOWN" },
        { "user-defined", "pieces[264].type", "USER_DEFINED piece 'xyz' is not supported" },
        { "remove-extra-whitespaces", "normalizer_spec.remove_extra_whitespaces", "not supported" },
        { "nfkc", "normalizer_spec.name", "'nmt_nfkc' is not supported" },
    };

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Load_TinyLlama2Json_Works()
    {
        var t = LoadJson(TinyTokenizerFiles.Llama2Json());
        Assert.Equal(TokenizerFamilies.Llama2, t.Family);
        Assert.Equal(264, t.VocabSize);
        Assert.Equal([1, 262, 261, 262], t.Encode("ab a", addBos: true));
        Assert.Equal([262, 3 + 0xE4, 3 + 0xB8, 3 + 0xAD], t.Encode("a中", addBos: false)); // byte fallback
        Assert.Equal("ab a", t.Decode([262, 261, 262]));
    }

    [Fact]
    public void Load_TinyLlama3Json_Works()
    {
        var t = LoadJson(TinyTokenizerFiles.Llama3Json());
        Assert.Equal(TokenizerFamilies.Llama3, t.Family);
        Assert.Equal(302, t.VocabSize);
        Assert.Equal(300, t.BosId);
        Assert.Equal(301, t.EosId);
        Assert.Equal([300, 257, 256, 'b'], t.Encode("ab ab", addBos: true)); // byte tokens have the byte's value as id here
        Assert.Equal("ab ab", t.Decode(t.Encode("ab ab", addBos: false)));
    }

    [Fact]
    public void Load_TinySentencePieceModel_AgreesWithTheJson()
    {
        File.WriteAllBytes(Path.Combine(_dir, "tokenizer.model"), TinyTokenizerFiles.Llama2Model());
        var model = TokenizerLoader.Load(_dir);
        var json = TokenizerLoader.LoadHuggingFace(WriteJson(TinyTokenizerFiles.Llama2Json(), "other.json"));
        foreach (var text in new[] { "ab a", "a中 b", "  aab", string.Empty, "<s>" })
        {
            Assert.Equal(json.Encode(text, addBos: true), model.Encode(text, addBos: true));
        }
    }

    [Theory]
    [MemberData(nameof(Llama2JsonBreakages))]
    public void Load_BrokenLlama2Json_NamesFileAndField(string breakage, string? field, string problem)
    {
        var doc = TinyTokenizerFiles.Llama2Json();
        var model = doc["model"]!.AsObject();
        var vocab = model["vocab"]!.AsObject();
        JsonNode node = doc;
        switch (breakage)
        {
            case "no-model": doc.Remove("model"); break;
            case "unigram": model["type"] = "Unigram"; break;
            case "vocab-string-id": vocab["a"] = "x"; break;
            case "vocab-duplicate-id": vocab["b"] = 260; break;
            case "vocab-empty": model["vocab"] = new JsonObject(); break;
            case "merge-no-space": model["merges"]![0] = "▁a"; break;
            case "merge-unknown-token": model["merges"]![1] = "a c"; break;
            case "merge-result-missing": model["merges"]![0] = "b a"; break;
            case "no-unk": model.Remove("unk_token"); break;
            case "nfkc": doc["normalizer"]!["normalizers"]!.AsArray().Add(new JsonObject { ["type"] = "NFKC" }); break;
            case "no-normalizer": doc["normalizer"] = null; break;
            case "non-special-added": doc["added_tokens"]![1]!["special"] = false; break;
            case "added-id-mismatch": doc["added_tokens"]![0]!["id"] = 5; break;
            case "root-array": node = new JsonArray(); break;
        }

        AssertLoadError(() => TokenizerLoader.Load(DirectoryWith(node)), "tokenizer.json", field, problem);
    }

    [Theory]
    [MemberData(nameof(Llama3JsonBreakages))]
    public void Load_BrokenLlama3Json_NamesFileAndField(string breakage, string field, string problem)
    {
        var doc = TinyTokenizerFiles.Llama3Json();
        var model = doc["model"]!.AsObject();
        var steps = doc["pre_tokenizer"]!["pretokenizers"]!.AsArray();
        switch (breakage)
        {
            case "other-regex": steps[0]!["pattern"]!["Regex"] = @"\s+|\S+"; break;
            case "use-regex": steps[1]!["use_regex"] = true; break;
            case "gpt2": steps.RemoveAt(0); break;
            case "missing-byte": model["vocab"]!.AsObject().Remove("A"); break;
            case "not-byte-level": model["vocab"]!["中"] = 258; break;
            case "normalizer": doc["normalizer"] = new JsonObject { ["type"] = "NFC" }; break;
        }

        AssertLoadError(() => TokenizerLoader.Load(DirectoryWith(doc)), "tokenizer.json", field, problem);
    }

    [Theory]
    [MemberData(nameof(SentencePieceBreakages))]
    public void Load_BrokenSentencePieceModel_NamesFileAndField(string breakage, string field, string problem)
    {
        var bytes = breakage switch
        {
            "unigram" => TinyTokenizerFiles.Llama2Model(modelType: 1),
            "unk-not-unknown" => TinyTokenizerFiles.Llama2Model(unkId: 260),
            "user-defined" => TinyTokenizerFiles.Llama2Model(extraPieceType: 4),
            "remove-extra-whitespaces" => TinyTokenizerFiles.Llama2Model(removeExtraWhitespaces: true),
            _ => TinyTokenizerFiles.Llama2Model(normalizer: "nmt_nfkc"),
        };
        File.WriteAllBytes(Path.Combine(_dir, "tokenizer.model"), bytes);
        AssertLoadError(() => TokenizerLoader.Load(_dir), "tokenizer.model", field, problem);
    }

    [Fact]
    public void Load_CorruptOrTruncatedFiles_SayWhichFile()
    {
        var json = Path.Combine(_dir, "tokenizer.json");
        var real = File.ReadAllBytes(Path.Combine(fixture.Llama3Directory, "tokenizer.json"));
        File.WriteAllBytes(json, real[..(real.Length / 2)]);
        AssertLoadError(() => TokenizerLoader.Load(_dir), "tokenizer.json", null, "not valid JSON");
        File.WriteAllBytes(json, []);
        AssertLoadError(() => TokenizerLoader.Load(_dir), "tokenizer.json", null, "not valid JSON");
        File.Delete(json);

        var model = Path.Combine(_dir, "tokenizer.model");
        var realModel = File.ReadAllBytes(Path.Combine(fixture.GeneratedDirectory, "llama2-sentencepiece", "tokenizer.model"));
        File.WriteAllBytes(model, realModel[..1001]);
        var ex = AssertLoadError(() => TokenizerLoader.Load(_dir), "tokenizer.model", null, "corrupt or not a SentencePiece model");
        Assert.StartsWith("pieces[", ex.Field, StringComparison.Ordinal);
        File.WriteAllBytes(model, []);
        AssertLoadError(() => TokenizerLoader.Load(_dir), "tokenizer.model", null, "is empty");
        File.WriteAllBytes(model, "{\"model\": \"this is JSON, not protobuf\"}"u8.ToArray());
        AssertLoadError(() => TokenizerLoader.Load(_dir), "tokenizer.model", null, "SentencePiece");
    }

    [Fact]
    public void Load_MissingFiles_SaySoAndWhatIsExpected()
    {
        var missing = Path.Combine(_dir, "nope");
        var ex = Assert.Throws<TokenizerLoadException>(() => TokenizerLoader.Load(missing));
        Assert.Contains("model directory not found", ex.Message, StringComparison.Ordinal);
        Assert.Equal(missing, ex.FilePath);

        ex = Assert.Throws<TokenizerLoadException>(() => TokenizerLoader.Load(_dir));
        Assert.Contains("tokenizer.json", ex.Message, StringComparison.Ordinal);
        Assert.Contains("tokenizer.model", ex.Message, StringComparison.Ordinal);

        ex = Assert.Throws<TokenizerLoadException>(() => TokenizerLoader.LoadHuggingFace(Path.Combine(_dir, "tokenizer.json")));
        Assert.Contains("file not found", ex.Message, StringComparison.Ordinal);
        ex = Assert.Throws<TokenizerLoadException>(() => TokenizerLoader.LoadSentencePiece(Path.Combine(_dir, "tokenizer.model")));
        Assert.Contains("file not found", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TokenizerConfig_ChoosesEosAndIsValidated()
    {
        var dir = DirectoryWith(TinyTokenizerFiles.Llama3Json());
        var config = Path.Combine(dir, "tokenizer_config.json");
        File.WriteAllText(config, """{"bos_token": {"content": "<|begin_of_text|>"}, "eos_token": "<|begin_of_text|>"}""");
        Assert.Equal(300, TokenizerLoader.Load(dir).EosId);
        File.WriteAllText(config, """{"eos_token": "<|nope|>"}""");
        AssertLoadError(() => TokenizerLoader.Load(dir), "tokenizer_config.json", "eos_token", "'<|nope|>' is not a special token");
        File.WriteAllText(config, """{"eos_token": 7}""");
        AssertLoadError(() => TokenizerLoader.Load(dir), "tokenizer_config.json", "eos_token", "expected a string");
        File.WriteAllText(config, "{");
        AssertLoadError(() => TokenizerLoader.Load(dir), "tokenizer_config.json", null, "not valid JSON");
    }

    [Fact]
    public void Load_PrefersTokenizerJsonOverTokenizerModel()
    {
        var dir = DirectoryWith(TinyTokenizerFiles.Llama3Json());
        File.WriteAllBytes(Path.Combine(dir, "tokenizer.model"), TinyTokenizerFiles.Llama2Model());
        Assert.Equal(TokenizerFamilies.Llama3, TokenizerLoader.Load(dir).Family);
    }

    private static TokenizerLoadException AssertLoadError(Func<ITokenizer> load, string fileName, string? field, string problem)
    {
        var ex = Assert.Throws<TokenizerLoadException>(load);
        Assert.Equal(fileName, Path.GetFileName(ex.FilePath));
        Assert.Contains(ex.FilePath!, ex.Message, StringComparison.Ordinal);
        if (field is not null)
        {
            Assert.Equal(field, ex.Field);
            Assert.Contains(field, ex.Message, StringComparison.Ordinal);
        }

        Assert.Contains(problem, ex.Message, StringComparison.Ordinal);
        return ex;
    }

    private ITokenizer LoadJson(JsonNode doc) => TokenizerLoader.Load(DirectoryWith(doc));

    private string DirectoryWith(JsonNode doc)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_dir, Guid.NewGuid().ToString("N"))).FullName;
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), doc.ToJsonString());
        return dir;
    }

    private string WriteJson(JsonNode doc, string name)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, doc.ToJsonString());
        return path;
    }
}
