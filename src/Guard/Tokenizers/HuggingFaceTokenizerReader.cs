using System.Text.Json;

namespace Guard.Tokenizers;

/// <summary>
/// Reads a Hugging Face tokenizer.json and builds the tokenizer of its family: Llama 2 (BPE with byte fallback and a
/// '▁' normalizer or Metaspace pre-tokenizer) or Llama 3 (the Llama 3 Split pattern followed by ByteLevel).
/// </summary>
internal static class HuggingFaceTokenizerReader
{
    /// <summary>The Llama 3 pre-tokenizer pattern, as written in its tokenizer.json.</summary>
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Reads the file.</summary>
    /// <param name="path">The tokenizer.json file.</param>
    /// <param name="config">The tokenizer_config.json next to it, or <see langword="null"/>.</param>
    /// <returns>The tokenizer.</returns>
    public static ITokenizer Read(string path, TokenizerConfigFile? config)
    {
        using var doc = JsonFile.Parse(path);
        var f = new JsonFields(path);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw f.Error(null, "expected a JSON object (a Hugging Face tokenizer.json)");
        }

        var model = f.RequiredObject(root, "model", "model");
        var type = f.OptionalString(model, "type", "model.type") ?? "BPE";
        if (type != "BPE")
        {
            throw f.Error("model.type", $"'{type}' is not supported: the Llama 2 and Llama 3 tokenizers are BPE models");
        }

        var parts = new Parts(
            f,
            model,
            ReadVocab(f, model),
            ReadMerges(f, model),
            ReadSpecials(f, root),
            Flatten(f, root, "normalizer", "normalizers"),
            Flatten(f, root, "pre_tokenizer", "pretokenizers"),
            Flatten(f, root, "decoder", "decoders"),
            config);

        if (parts.PreTokenizers.Any(p => p.Type == "ByteLevel"))
        {
            return ByteLevelReader.Build(parts);
        }

        if (parts.Normalizers.Any(n => n.Type == "Replace") || parts.PreTokenizers.Any(p => p.Type == "Metaspace"))
        {
            return SentencePieceJsonReader.Build(parts);
        }

        throw f.Error(
            "pre_tokenizer",
            "unknown tokenizer family: expected Llama 2 (a normalizer replacing ' ' with '▁', or a Metaspace pre-tokenizer) "
            + "or Llama 3 (a Split with the Llama 3 pattern, then ByteLevel)");
    }

    private static List<KeyValuePair<string, int>> ReadVocab(JsonFields f, JsonElement model)
    {
        var vocab = f.RequiredObject(model, "vocab", "model.vocab");
        var list = new List<KeyValuePair<string, int>>();
        var seen = new Dictionary<int, string>();
        foreach (var entry in vocab.EnumerateObject())
        {
            var path = $"model.vocab[\"{entry.Name}\"]";
            var id = f.Id(entry.Value, path);
            if (!seen.TryAdd(id, entry.Name))
            {
                throw f.Error(path, $"id {id} is also the id of '{seen[id]}'");
            }

            list.Add(new(entry.Name, id));
        }

        return list.Count > 0 ? list : throw f.Error("model.vocab", "is empty");
    }

    private static List<(string Left, string Right)> ReadMerges(JsonFields f, JsonElement model)
    {
        var merges = f.RequiredArray(model, "merges", "model.merges");
        var list = new List<(string, string)>(merges.GetArrayLength());
        var i = 0;
        foreach (var item in merges.EnumerateArray())
        {
            var path = $"model.merges[{i++}]";
            if (item.ValueKind == JsonValueKind.String)
            {
                // The older format: "left right" (tokens never hold a plain space).
                var text = item.GetString()!;
                var space = text.IndexOf(' ', StringComparison.Ordinal);
                if (space <= 0 || space == text.Length - 1 || text.IndexOf(' ', space + 1) >= 0)
                {
                    throw f.Error(path, $"expected \"left right\" (two tokens and one space), found \"{text}\"");
                }

                list.Add((text[..space], text[(space + 1)..]));
            }
            else if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() == 2
                && item[0].ValueKind == JsonValueKind.String && item[1].ValueKind == JsonValueKind.String)
            {
                list.Add((item[0].GetString()!, item[1].GetString()!));
            }
            else
            {
                throw f.Error(path, $"expected \"left right\" or [\"left\", \"right\"], found {item.GetRawText()}");
            }
        }

        return list;
    }

    private static List<KeyValuePair<string, int>> ReadSpecials(JsonFields f, JsonElement root)
    {
        var list = new List<KeyValuePair<string, int>>();
        if (f.Optional(root, "added_tokens", "added_tokens", JsonValueKind.Array) is not { } added)
        {
            return list;
        }

        var i = 0;
        foreach (var item in added.EnumerateArray())
        {
            var path = $"added_tokens[{i++}]";
            if (item.ValueKind != JsonValueKind.Object)
            {
                throw f.Error(path, "expected an object with id, content and special");
            }

            var id = f.RequiredId(item, "id", $"{path}.id");
            var content = f.RequiredString(item, "content", $"{path}.content");
            if (!f.OptionalBool(item, "special", $"{path}.special", defaultValue: false))
            {
                // Hugging Face matches non-special added tokens inside text; Llama vocabularies have none, and
                // matching them would reopen the door that docs/adr/003 closes, so refuse rather than ignore.
                throw f.Error($"{path}.special", $"'{content}' is a non-special added token, which is not supported");
            }

            list.Add(new(content, id));
        }

        return list;
    }

    private static List<Component> Flatten(JsonFields f, JsonElement root, string name, string childrenName)
    {
        var list = new List<Component>();
        if (f.Optional(root, name, name, JsonValueKind.Object) is { } element)
        {
            Add(element, name);
        }

        return list;

        void Add(JsonElement element, string path)
        {
            var type = f.RequiredString(element, "type", $"{path}.type");
            if (type != "Sequence")
            {
                list.Add(new Component(element, type, path));
                return;
            }

            var i = 0;
            foreach (var child in f.RequiredArray(element, childrenName, $"{path}.{childrenName}").EnumerateArray())
            {
                var childPath = $"{path}.{childrenName}[{i++}]";
                if (child.ValueKind != JsonValueKind.Object)
                {
                    throw f.Error(childPath, "expected an object");
                }

                Add(child, childPath);
            }
        }
    }

    /// <summary>One normalizer, pre-tokenizer or decoder step.</summary>
    /// <param name="Element">Its JSON object.</param>
    /// <param name="Type">Its <c>type</c>.</param>
    /// <param name="Path">Its path in the file.</param>
    internal readonly record struct Component(JsonElement Element, string Type, string Path);

    /// <summary>The parsed sections of a tokenizer.json that the family builders use.</summary>
    /// <param name="Fields">Field access for the file.</param>
    /// <param name="Model">The <c>model</c> object.</param>
    /// <param name="Vocab">The <c>model.vocab</c> entries.</param>
    /// <param name="Merges">The <c>model.merges</c> pairs, in priority order.</param>
    /// <param name="Specials">The special <c>added_tokens</c>.</param>
    /// <param name="Normalizers">The normalizer steps.</param>
    /// <param name="PreTokenizers">The pre-tokenizer steps.</param>
    /// <param name="Decoders">The decoder steps.</param>
    /// <param name="Config">The tokenizer_config.json, or <see langword="null"/>.</param>
    internal sealed record Parts(
        JsonFields Fields,
        JsonElement Model,
        List<KeyValuePair<string, int>> Vocab,
        List<(string Left, string Right)> Merges,
        List<KeyValuePair<string, int>> Specials,
        List<Component> Normalizers,
        List<Component> PreTokenizers,
        List<Component> Decoders,
        TokenizerConfigFile? Config)
    {
        /// <summary>Builds the control-token set, checking that each agrees with <c>model.vocab</c>.</summary>
        /// <param name="vocab">The vocabulary by token.</param>
        /// <returns>The set.</returns>
        public SpecialTokenSet BuildSpecials(Dictionary<string, int> vocab)
        {
            for (var i = 0; i < Specials.Count; i++)
            {
                var (content, id) = Specials[i];
                if (vocab.TryGetValue(content, out var vocabId) && vocabId != id)
                {
                    throw Fields.Error($"added_tokens[{i}]", $"'{content}' has id {id} but model.vocab gives it {vocabId}");
                }
            }

            return new SpecialTokenSet(Specials);
        }

        /// <summary>Gets the vocabulary size: one more than the largest id of the vocabulary and the added tokens.</summary>
        /// <returns>The size.</returns>
        public int VocabSize() => Math.Max(Vocab.Max(v => v.Value), Specials.Count == 0 ? -1 : Specials.Max(s => s.Value)) + 1;
    }
}
