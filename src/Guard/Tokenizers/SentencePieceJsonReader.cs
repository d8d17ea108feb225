using System.Text;
using System.Text.Json;

namespace Guard.Tokenizers;

/// <summary>Builds the Llama 2 tokenizer from the parsed sections of a Hugging Face tokenizer.json.</summary>
internal static class SentencePieceJsonReader
{
    /// <summary>Builds the tokenizer.</summary>
    /// <param name="parts">The parsed file.</param>
    /// <returns>The tokenizer.</returns>
    public static ITokenizer Build(HuggingFaceTokenizerReader.Parts parts)
    {
        var f = parts.Fields;
        var prefix = PrefixSpace.None;
        foreach (var n in parts.Normalizers)
        {
            switch (n.Type)
            {
                case "Prepend":
                    RequireMarker(f, f.RequiredString(n.Element, "prepend", $"{n.Path}.prepend"), $"{n.Path}.prepend");
                    prefix = PrefixSpace.Always;
                    break;
                case "Replace":
                    var pattern = f.RequiredObject(n.Element, "pattern", $"{n.Path}.pattern");
                    if (f.OptionalString(pattern, "String", $"{n.Path}.pattern.String") != " "
                        || f.OptionalString(n.Element, "content", $"{n.Path}.content") != "▁")
                    {
                        throw f.Error(n.Path, "only Replace(' ', '▁') is supported in the Llama 2 family");
                    }

                    break;
                default:
                    throw f.Error($"{n.Path}.type", $"normalizer '{n.Type}' is not supported in the Llama 2 family (expected Prepend and Replace)");
            }
        }

        foreach (var p in parts.PreTokenizers)
        {
            if (p.Type != "Metaspace")
            {
                throw f.Error($"{p.Path}.type", $"pre-tokenizer '{p.Type}' is not supported in the Llama 2 family (expected none or Metaspace)");
            }

            RequireMarker(f, f.OptionalString(p.Element, "replacement", $"{p.Path}.replacement") ?? "▁", $"{p.Path}.replacement");
            if (f.OptionalBool(p.Element, "split", $"{p.Path}.split", defaultValue: true))
            {
                throw f.Error($"{p.Path}.split", "Metaspace with split: true is not supported (Llama 2 uses split: false)");
            }

            prefix = MetaspacePrefix(f, p);
        }

        var strip = parts.Decoders.Any(d =>
            (d.Type == "Strip" && d.Element.TryGetProperty("start", out var s) && s.ValueKind == JsonValueKind.Number && s.GetInt32() > 0)
            || (d.Type == "Metaspace" && MetaspacePrefix(f, d) != PrefixSpace.None));

        var model = parts.Model;
        var byteFallback = f.OptionalBool(model, "byte_fallback", "model.byte_fallback", defaultValue: false);
        var fuseUnk = f.OptionalBool(model, "fuse_unk", "model.fuse_unk", defaultValue: false);
        var vocab = parts.Vocab.ToDictionary(StringComparer.Ordinal);
        var unkToken = f.RequiredString(model, "unk_token", "model.unk_token");
        if (!vocab.TryGetValue(unkToken, out var unkId))
        {
            throw f.Error("model.unk_token", $"'{unkToken}' is not in model.vocab");
        }

        var specials = parts.BuildSpecials(vocab);
        var size = parts.VocabSize();
        var tokenBytes = new byte[]?[size];
        var pieces = new List<KeyValuePair<string, int>>();
        var byteTokens = new List<KeyValuePair<byte, int>>();
        foreach (var (token, id) in parts.Vocab)
        {
            if (specials.Contains(id))
            {
                continue;
            }

            if (byteFallback && SentencePieceModelReader.TryParseByteToken(token, out var value))
            {
                byteTokens.Add(new(value, id));
                tokenBytes[id] = [value];
                continue;
            }

            pieces.Add(new(token, id));
            tokenBytes[id] = Encoding.UTF8.GetBytes(token.Replace(SentencePieceBpeTokenizer.SpaceMarker, ' '));
        }

        foreach (var (content, id) in parts.Specials)
        {
            tokenBytes[id] = Encoding.UTF8.GetBytes(content);
        }

        var rules = new List<BpeMergeRule>(parts.Merges.Count);
        var results = new List<string>(parts.Merges.Count);
        for (var i = 0; i < parts.Merges.Count; i++)
        {
            var (left, right) = parts.Merges[i];
            var merged = left + right;
            rules.Add(new BpeMergeRule(
                VocabId(f, vocab, left, i),
                VocabId(f, vocab, right, i),
                vocab.TryGetValue(merged, out var result) ? result : throw f.Error($"model.merges[{i}]", $"'{left}' + '{right}' gives '{merged}', which is not in model.vocab"),
                i));
            results.Add(merged);
        }

        var bos = TokenizerConfigFile.ResolveId(parts.Config, "bos_token", specials, f.FilePath, "<s>");
        var eos = TokenizerConfigFile.ResolveId(parts.Config, "eos_token", specials, f.FilePath, "</s>");
        var settings = new LlamaTokenizerSettings(TokenizerFamilies.Llama2, specials, new TokenBytesTable(tokenBytes), bos, eos, [eos], strip);
        return new SentencePieceBpeTokenizer(settings, new SentencePieceBpeModel(pieces, byteTokens, results, new BpeMergeTable(rules), unkId, fuseUnk, prefix));
    }

    private static int VocabId(JsonFields f, Dictionary<string, int> vocab, string token, int index) =>
        vocab.TryGetValue(token, out var id) ? id : throw f.Error($"model.merges[{index}]", $"'{token}' is not in model.vocab");

    private static void RequireMarker(JsonFields f, string value, string path)
    {
        if (value != "▁")
        {
            throw f.Error(path, $"expected '▁' (U+2581), found '{value}'");
        }
    }

    private static PrefixSpace MetaspacePrefix(JsonFields f, HuggingFaceTokenizerReader.Component c)
    {
        var scheme = f.OptionalString(c.Element, "prepend_scheme", $"{c.Path}.prepend_scheme");
        return scheme switch
        {
            null => f.OptionalBool(c.Element, "add_prefix_space", $"{c.Path}.add_prefix_space", defaultValue: true) ? PrefixSpace.Always : PrefixSpace.None,
            "always" => PrefixSpace.Always,
            "first" => PrefixSpace.First,
            "never" => PrefixSpace.None,
            _ => throw f.Error($"{c.Path}.prepend_scheme", $"expected always, first or never, found '{scheme}'"),
        };
    }
}
