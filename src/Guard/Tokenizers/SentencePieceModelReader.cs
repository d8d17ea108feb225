using System.Globalization;
using System.Text;

namespace Guard.Tokenizers;

/// <summary>
/// Reads a SentencePiece tokenizer.model (protobuf <c>ModelProto</c>) of BPE type, as shipped with Llama 2, and builds
/// the Llama 2 tokenizer with SentencePiece's merge order: the pair whose merged piece has the highest score first,
/// the leftmost pair on ties.
/// </summary>
internal static class SentencePieceModelReader
{
    private const int Normal = SentencePieceModelProto.Normal;
    private const int Unknown = 2;
    private const int Control = 3;
    private const int UserDefined = 4;
    private const int Unused = 5;
    private const int Byte = 6;
    private const int BpeModelType = 2;

    /// <summary>Parses a byte-fallback piece such as <c>&lt;0x0A&gt;</c>.</summary>
    /// <param name="piece">The piece text.</param>
    /// <param name="value">The byte.</param>
    /// <returns>Whether the piece is a byte piece.</returns>
    public static bool TryParseByteToken(string piece, out byte value)
    {
        value = 0;
        return piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece[5] == '>'
            && byte.TryParse(piece.AsSpan(3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Reads the file.</summary>
    /// <param name="path">The tokenizer.model file.</param>
    /// <returns>The tokenizer.</returns>
    public static ITokenizer Read(string path)
    {
        var model = SentencePieceModelProto.Parse(path);
        var pieces = model.Pieces;
        var err = (string field, string problem) => new TokenizerLoadException(path, field, problem);
        if (pieces.Count == 0)
        {
            throw err("pieces", "no pieces: not a SentencePiece model");
        }

        if (model.ModelType != BpeModelType)
        {
            var name = model.ModelType switch { 1 => "UNIGRAM", 3 => "WORD", 4 => "CHAR", _ => model.ModelType.ToString(CultureInfo.InvariantCulture) };
            throw err("trainer_spec.model_type", $"{name} is not supported: only BPE models (Llama 2) are");
        }

        if (model.NormalizerName is not ("identity" or "") || model.HasCharsMap)
        {
            throw err("normalizer_spec.name", $"normalization rule '{model.NormalizerName}' is not supported: only 'identity' (Llama 2)");
        }

        if (model.RemoveExtraWhitespaces || !model.EscapeWhitespaces)
        {
            throw err(model.RemoveExtraWhitespaces ? "normalizer_spec.remove_extra_whitespaces" : "normalizer_spec.escape_whitespaces",
                "not supported: Llama 2 keeps every space and writes it as '▁' (remove_extra_whitespaces: false, escape_whitespaces: true)");
        }

        var normal = new Dictionary<string, int>(StringComparer.Ordinal);
        var specials = new List<KeyValuePair<string, int>>();
        var byteTokens = new List<KeyValuePair<byte, int>>();
        var tokenBytes = new byte[]?[pieces.Count];
        for (var id = 0; id < pieces.Count; id++)
        {
            var (text, score, type) = pieces[id];
            switch (type)
            {
                case Normal:
                    if (float.IsNaN(score) || !normal.TryAdd(text, id))
                    {
                        throw err($"pieces[{id}]", float.IsNaN(score) ? "score is NaN" : $"piece '{text}' is also piece {normal[text]}");
                    }

                    tokenBytes[id] = Encoding.UTF8.GetBytes(text.Replace(SentencePieceBpeTokenizer.SpaceMarker, ' '));
                    break;
                case Unused:
                    tokenBytes[id] = Encoding.UTF8.GetBytes(text.Replace(SentencePieceBpeTokenizer.SpaceMarker, ' '));
                    break;
                case Unknown or Control:
                    specials.Add(new(text, id));
                    tokenBytes[id] = Encoding.UTF8.GetBytes(text);
                    break;
                case Byte:
                    if (!TryParseByteToken(text, out var value))
                    {
                        throw err($"pieces[{id}].piece", $"a BYTE piece must look like <0x0A>, found '{text}'");
                    }

                    if (model.ByteFallback)
                    {
                        byteTokens.Add(new(value, id));
                    }

                    tokenBytes[id] = [value];
                    break;
                case UserDefined:
                    throw err($"pieces[{id}].type", $"USER_DEFINED piece '{text}' is not supported (Llama 2 has none)");
                default:
                    throw err($"pieces[{id}].type", $"unknown piece type {type}");
            }
        }

        var unk = CheckId(path, "trainer_spec.unk_id", model.UnkId, pieces, Unknown);
        var bos = CheckId(path, "trainer_spec.bos_id", model.BosId, pieces, Control);
        var eos = CheckId(path, "trainer_spec.eos_id", model.EosId, pieces, Control);
        var (rules, results) = BuildMerges(normal, pieces);
        var prefix = model.AddDummyPrefix ? PrefixSpace.Always : PrefixSpace.None;
        var settings = new LlamaTokenizerSettings(
            TokenizerFamilies.Llama2, new SpecialTokenSet(specials), new TokenBytesTable(tokenBytes), bos, eos, [eos], model.AddDummyPrefix);
        return new SentencePieceBpeTokenizer(settings, new SentencePieceBpeModel([.. normal], byteTokens, results, new BpeMergeTable(rules), unk, FuseUnk: true, prefix));
    }

    /// <summary>
    /// Every split of a normal piece into two normal pieces is a merge; its priority is the rank of the piece's score
    /// among the distinct scores, highest first, so equal scores tie and the leftmost pair wins, as in SentencePiece.
    /// </summary>
    private static (List<BpeMergeRule> Rules, List<string> Results) BuildMerges(Dictionary<string, int> normal, List<SentencePieceModelProto.Piece> pieces)
    {
        var ranks = normal.Values.Select(id => pieces[id].Score).Distinct().OrderDescending()
            .Select((score, rank) => (score, rank)).ToDictionary(x => x.score, x => x.rank);
        var lookup = normal.GetAlternateLookup<ReadOnlySpan<char>>();
        var rules = new List<BpeMergeRule>();
        var results = new List<string>();
        foreach (var (text, id) in normal)
        {
            var produced = false;
            for (var k = 1; k < text.Length; k++)
            {
                if (char.IsLowSurrogate(text[k]) && char.IsHighSurrogate(text[k - 1]))
                {
                    continue;
                }

                if (lookup.TryGetValue(text.AsSpan(0, k), out var left) && lookup.TryGetValue(text.AsSpan(k), out var right))
                {
                    rules.Add(new BpeMergeRule(left, right, id, ranks[pieces[id].Score]));
                    produced = true;
                }
            }

            if (produced)
            {
                results.Add(text);
            }
        }

        return (rules, results);
    }

    private static int CheckId(string path, string field, int id, List<SentencePieceModelProto.Piece> pieces, int expectedType)
    {
        if (id < 0 || id >= pieces.Count)
        {
            throw new TokenizerLoadException(path, field, $"{id} is not a piece id (0..{pieces.Count - 1})");
        }

        return pieces[id].Type == expectedType
            ? id
            : throw new TokenizerLoadException(path, field, $"piece {id} '{pieces[id].Text}' has type {pieces[id].Type}, expected {(expectedType == Unknown ? "UNKNOWN" : "CONTROL")}");
    }
}
