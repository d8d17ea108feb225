using System.Text;

namespace Guard.Tokenizers;

/// <summary>Builds the Llama 3 tokenizer from the parsed sections of a Hugging Face tokenizer.json.</summary>
internal static class ByteLevelReader
{
    /// <summary>Builds the tokenizer.</summary>
    /// <param name="parts">The parsed file.</param>
    /// <returns>The tokenizer.</returns>
    public static ITokenizer Build(HuggingFaceTokenizerReader.Parts parts)
    {
        var f = parts.Fields;
        if (parts.Normalizers.Count > 0)
        {
            throw f.Error($"{parts.Normalizers[0].Path}.type", $"normalizer '{parts.Normalizers[0].Type}' is not supported in the Llama 3 family (it has none)");
        }

        CheckPreTokenizers(f, parts.PreTokenizers);
        var model = parts.Model;
        if (f.OptionalBool(model, "byte_fallback", "model.byte_fallback", defaultValue: false))
        {
            throw f.Error("model.byte_fallback", "must be false for a byte-level BPE model");
        }

        var ignoreMerges = f.OptionalBool(model, "ignore_merges", "model.ignore_merges", defaultValue: false);
        var vocab = parts.Vocab.ToDictionary(StringComparer.Ordinal);
        var specials = parts.BuildSpecials(vocab);
        var tokenBytes = new byte[]?[parts.VocabSize()];
        var byteVocab = new Dictionary<string, int>(parts.Vocab.Count, StringComparer.Ordinal);
        foreach (var (token, id) in parts.Vocab)
        {
            if (specials.Contains(id))
            {
                continue;
            }

            if (!ByteLevelAlphabet.TryGetBytes(token, out var bytes))
            {
                var bad = token.First(c => !ByteLevelAlphabet.TryGetBytes(c.ToString(), out _));
                throw f.Error($"model.vocab[\"{token}\"]", $"not a byte-level token: '{bad}' (U+{(int)bad:X4}) is outside GPT-2's byte alphabet");
            }

            tokenBytes[id] = bytes;
            byteVocab[Encoding.Latin1.GetString(bytes)] = id; // one char per byte, see ByteLevelBpeTokenizer
        }

        foreach (var (content, id) in parts.Specials)
        {
            tokenBytes[id] = Encoding.UTF8.GetBytes(content);
        }

        var byteIds = new int[256];
        for (var b = 0; b < 256; b++)
        {
            byteIds[b] = byteVocab.TryGetValue(((char)b).ToString(), out var id)
                ? id
                : throw f.Error("model.vocab", $"no token for byte 0x{b:X2} ('{ByteLevelAlphabet.ToChar((byte)b)}'); a byte-level vocabulary needs all 256");
        }

        var rules = new List<BpeMergeRule>(parts.Merges.Count);
        for (var i = 0; i < parts.Merges.Count; i++)
        {
            var (left, right) = parts.Merges[i];
            var leftId = VocabId(f, vocab, left, i);
            var rightId = VocabId(f, vocab, right, i);
            var merged = left + right;
            var result = vocab.TryGetValue(merged, out var r) ? r : throw f.Error($"model.merges[{i}]", $"'{left}' + '{right}' gives '{merged}', which is not in model.vocab");
            rules.Add(new BpeMergeRule(leftId, rightId, result, i));
        }

        var bos = TokenizerConfigFile.ResolveId(parts.Config, "bos_token", specials, f.FilePath, "<|begin_of_text|>");
        // Llama Guard generates one assistant turn, which ends with <|eot_id|>; base models end with <|end_of_text|>.
        var eos = TokenizerConfigFile.ResolveId(parts.Config, "eos_token", specials, f.FilePath, "<|eot_id|>", "<|end_of_text|>");
        var stops = new List<int> { eos };
        foreach (var text in new[] { "<|end_of_text|>", "<|eom_id|>", "<|eot_id|>" })
        {
            if (specials.TryGetId(text, out var id) && !stops.Contains(id))
            {
                stops.Add(id);
            }
        }

        var settings = new LlamaTokenizerSettings(TokenizerFamilies.Llama3, specials, new TokenBytesTable(tokenBytes), bos, eos, stops, StripLeadingSpaceOnDecode: false);
        return new ByteLevelBpeTokenizer(settings, new ByteLevelBpeModel(byteVocab, byteIds, new BpeMergeTable(rules), ignoreMerges));
    }

    private static void CheckPreTokenizers(JsonFields f, List<HuggingFaceTokenizerReader.Component> steps)
    {
        var split = steps.FirstOrDefault(s => s.Type == "Split");
        if (split.Path is null)
        {
            throw f.Error("pre_tokenizer", "ByteLevel without a Split of the Llama 3 pattern (GPT-2-style byte-level BPE) is not supported");
        }

        foreach (var step in steps)
        {
            switch (step.Type)
            {
                case "Split":
                    var pattern = f.RequiredObject(step.Element, "pattern", $"{step.Path}.pattern");
                    var regex = f.OptionalString(pattern, "Regex", $"{step.Path}.pattern.Regex");
                    if (regex != HuggingFaceTokenizerReader.Llama3Pattern)
                    {
                        throw f.Error($"{step.Path}.pattern.Regex", $"only the Llama 3 pattern is supported, found '{regex ?? pattern.GetRawText()}'");
                    }

                    var behavior = f.OptionalString(step.Element, "behavior", $"{step.Path}.behavior") ?? "Isolated";
                    if (behavior != "Isolated" || f.OptionalBool(step.Element, "invert", $"{step.Path}.invert", defaultValue: false))
                    {
                        throw f.Error($"{step.Path}.behavior", $"only behavior Isolated without invert is supported, found '{behavior}'");
                    }

                    break;
                case "ByteLevel":
                    if (f.OptionalBool(step.Element, "use_regex", $"{step.Path}.use_regex", defaultValue: true))
                    {
                        throw f.Error($"{step.Path}.use_regex", "must be false: the Split step already pre-tokenizes (GPT-2's regex is not supported)");
                    }

                    if (f.OptionalBool(step.Element, "add_prefix_space", $"{step.Path}.add_prefix_space", defaultValue: false))
                    {
                        throw f.Error($"{step.Path}.add_prefix_space", "must be false in the Llama 3 family");
                    }

                    break;
                default:
                    throw f.Error($"{step.Path}.type", $"pre-tokenizer '{step.Type}' is not supported in the Llama 3 family (expected Split, ByteLevel)");
            }
        }

        if (steps.IndexOf(split) > steps.FindIndex(s => s.Type == "ByteLevel"))
        {
            throw f.Error("pre_tokenizer", "the Split step must come before ByteLevel");
        }
    }

    private static int VocabId(JsonFields f, Dictionary<string, int> vocab, string token, int index) =>
        vocab.TryGetValue(token, out var id) ? id : throw f.Error($"model.merges[{index}]", $"'{token}' is not in model.vocab");
}
