using System.Buffers;
using System.Text;

namespace Guard.Tokenizers;

/// <summary>
/// The Llama 2 tokenizer (LlamaGuard-7b): SentencePiece-style BPE over characters, spaces written as '▁', a '▁'
/// prepended to the text, and characters missing from the vocabulary spelled as <c>&lt;0xXX&gt;</c> byte tokens.
/// </summary>
/// <remarks>
/// There is no pre-tokenizer: in principle BPE runs over the whole text. When no merge can join a character to a
/// following '▁' (checked when loading; true of the Llama 2 vocabulary), the text splits before every run of '▁'
/// into pieces that never interact, which are encoded (and cached) one at a time with the same result.
/// </remarks>
internal sealed class SentencePieceBpeTokenizer : LlamaTokenizer
{
    /// <summary>The character SentencePiece writes for a space.</summary>
    public const char SpaceMarker = '\u2581';

    private const int StackLimit = 256;

    private readonly int[] _bmpIds;
    private readonly Dictionary<int, int> _supplementaryIds;
    private readonly int[] _byteIds;
    private readonly int _unkId;
    private readonly bool _fuseUnk;
    private readonly BpeMergeTable _merges;
    private readonly PrefixSpace _prefix;
    private readonly bool _splitAtSpaces;
    private readonly TokenCache _cache = new(capacity: 32_768);

    /// <summary>Initializes a new instance of the <see cref="SentencePieceBpeTokenizer"/> class.</summary>
    /// <param name="settings">The shared settings.</param>
    /// <param name="model">The vocabulary and merge rules.</param>
    public SentencePieceBpeTokenizer(LlamaTokenizerSettings settings, SentencePieceBpeModel model)
        : base(settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        _merges = model.Merges;
        _unkId = model.UnkId;
        _fuseUnk = model.FuseUnk;
        _prefix = model.Prefix;
        _bmpIds = new int[char.MaxValue + 1];
        Array.Fill(_bmpIds, -1);
        _supplementaryIds = [];
        _byteIds = new int[256];
        Array.Fill(_byteIds, -1);
        var splitSafe = true;
        foreach (var (piece, id) in model.Pieces)
        {
            if (piece.Length == 1)
            {
                _bmpIds[piece[0]] = id;
            }
            else if (piece.Length == 2 && char.IsSurrogatePair(piece[0], piece[1]))
            {
                _supplementaryIds[char.ConvertToUtf32(piece[0], piece[1])] = id;
            }
        }

        foreach (var (value, id) in model.ByteTokens)
        {
            _byteIds[value] = id;
        }

        // A merge result holding "x▁" (x not '▁') could join text across a split point; then split nowhere.
        foreach (var result in model.MergeResults)
        {
            for (var i = 1; i < result.Length; i++)
            {
                if (result[i] == SpaceMarker && result[i - 1] != SpaceMarker)
                {
                    splitSafe = false;
                }
            }
        }

        _splitAtSpaces = splitSafe;
    }

    /// <inheritdoc />
    protected override void EncodeText(ReadOnlySpan<char> text, bool atStart, List<int> destination)
    {
        if (text.IsEmpty)
        {
            return;
        }

        var prefix = _prefix == PrefixSpace.Always || (_prefix == PrefixSpace.First && atStart) ? 1 : 0;
        var length = text.Length + prefix;
        char[]? rented = null;
        var normalized = length <= StackLimit ? stackalloc char[length] : (rented = ArrayPool<char>.Shared.Rent(length));
        try
        {
            if (prefix == 1)
            {
                normalized[0] = SpaceMarker;
            }

            text.Replace(normalized[prefix..length], ' ', SpaceMarker);
            normalized = normalized[..length];
            if (!_splitAtSpaces)
            {
                EncodePiece(normalized, destination);
                return;
            }

            var start = 0;
            for (var i = 1; i < normalized.Length; i++)
            {
                if (normalized[i] == SpaceMarker && normalized[i - 1] != SpaceMarker)
                {
                    EncodePiece(normalized[start..i], destination);
                    start = i;
                }
            }

            EncodePiece(normalized[start..], destination);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    private void EncodePiece(ReadOnlySpan<char> piece, List<int> destination)
    {
        if (piece.Length <= TokenCache.MaxKeyLength && _cache.TryGet(piece, out var cached))
        {
            destination.AddRange(cached);
            return;
        }

        // At most 3 byte tokens per UTF-16 unit (a BMP character is up to 3 UTF-8 bytes, a surrogate pair 4).
        var capacity = piece.Length * 3;
        int[]? rented = null;
        var symbols = capacity <= StackLimit ? stackalloc int[capacity] : (rented = ArrayPool<int>.Shared.Rent(capacity));
        try
        {
            var count = InitialSymbols(piece, symbols);
            count = BpeMerger.Merge(symbols[..count], _merges);
            destination.AddRange(symbols[..count]);
            _cache.Add(piece, symbols[..count]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }
    }

    private int InitialSymbols(ReadOnlySpan<char> piece, Span<int> symbols)
    {
        var count = 0;
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < piece.Length; i++)
        {
            var c = piece[i];
            int id;
            Rune rune;
            if (!char.IsSurrogate(c))
            {
                id = _bmpIds[c];
                rune = new Rune(c);
            }
            else if (char.IsHighSurrogate(c) && i + 1 < piece.Length && char.IsLowSurrogate(piece[i + 1]))
            {
                rune = new Rune(c, piece[++i]);
                id = _supplementaryIds.TryGetValue(rune.Value, out var s) ? s : -1;
            }
            else
            {
                // A lone surrogate is not text: it is encoded as U+FFFD, as UTF-8 encoders do.
                rune = Rune.ReplacementChar;
                id = _bmpIds[rune.Value];
            }

            if (id >= 0)
            {
                symbols[count++] = id;
                continue;
            }

            // Byte fallback: the UTF-8 bytes as <0xXX> tokens; <unk> when the vocabulary lacks one of them.
            var n = rune.EncodeToUtf8(utf8);
            var all = true;
            for (var b = 0; b < n; b++)
            {
                all &= _byteIds[utf8[b]] >= 0;
            }

            if (all)
            {
                for (var b = 0; b < n; b++)
                {
                    symbols[count++] = _byteIds[utf8[b]];
                }
            }
            else if (!_fuseUnk || count == 0 || symbols[count - 1] != _unkId)
            {
                symbols[count++] = _unkId;
            }
        }

        return count;
    }
}
