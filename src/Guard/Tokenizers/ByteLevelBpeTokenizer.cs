using System.Buffers;
using System.Text;

namespace Guard.Tokenizers;

/// <summary>
/// The Llama 3 tokenizer (Llama Guard 2 and 3): the text is split by <see cref="Llama3PreTokenizer"/>, each piece's
/// UTF-8 bytes are merged by BPE rank, and a piece that is itself a token is emitted whole (<c>ignore_merges</c>).
/// </summary>
/// <remarks>
/// Tokens are kept as byte strings (one char per byte value 0-255) rather than in GPT-2's printable alphabet, so a
/// piece is looked up straight from its UTF-8 bytes without building a string.
/// </remarks>
internal sealed class ByteLevelBpeTokenizer : LlamaTokenizer
{
    private const int StackLimit = 256;

    private readonly Dictionary<string, int> _vocab;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabLookup;
    private readonly int[] _byteIds;
    private readonly BpeMergeTable _merges;
    private readonly bool _ignoreMerges;
    private readonly TokenCache _cache = new(capacity: 32_768);

    /// <summary>Initializes a new instance of the <see cref="ByteLevelBpeTokenizer"/> class.</summary>
    /// <param name="settings">The shared settings.</param>
    /// <param name="model">The vocabulary and merge rules.</param>
    public ByteLevelBpeTokenizer(LlamaTokenizerSettings settings, ByteLevelBpeModel model)
        : base(settings)
    {
        ArgumentNullException.ThrowIfNull(model);
        _vocab = model.Vocab;
        _vocabLookup = _vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _merges = model.Merges;
        _ignoreMerges = model.IgnoreMerges;
        _byteIds = model.ByteIds;
    }

    /// <inheritdoc />
    protected override void EncodeText(ReadOnlySpan<char> text, bool atStart, List<int> destination)
    {
        var start = 0;
        while (start < text.Length)
        {
            var end = Llama3PreTokenizer.NextPieceEnd(text, start);
            EncodePiece(text[start..end], destination);
            start = end;
        }
    }

    private void EncodePiece(ReadOnlySpan<char> piece, List<int> destination)
    {
        // Cached by the piece's own text: a hit skips the UTF-8 conversion too.
        if (piece.Length <= TokenCache.MaxKeyLength && _cache.TryGet(piece, out var cached))
        {
            destination.AddRange(cached);
            return;
        }

        // UTF-8 needs at most 3 bytes per UTF-16 unit.
        var capacity = piece.Length * 3;
        char[]? rentedKey = null;
        var key = capacity <= StackLimit ? stackalloc char[capacity] : (rentedKey = ArrayPool<char>.Shared.Rent(capacity));
        int[]? rentedSymbols = null;
        try
        {
            var length = ToByteString(piece, key);
            key = key[..length];
            if (_ignoreMerges && _vocabLookup.TryGetValue(key, out var whole))
            {
                destination.Add(whole);
                return;
            }

            var symbols = length <= StackLimit ? stackalloc int[length] : (rentedSymbols = ArrayPool<int>.Shared.Rent(length));
            for (var i = 0; i < length; i++)
            {
                symbols[i] = _byteIds[key[i]];
            }

            var count = BpeMerger.Merge(symbols[..length], _merges);
            destination.AddRange(symbols[..count]);
            _cache.Add(piece, symbols[..count]);
        }
        finally
        {
            if (rentedKey is not null)
            {
                ArrayPool<char>.Shared.Return(rentedKey);
            }

            if (rentedSymbols is not null)
            {
                ArrayPool<int>.Shared.Return(rentedSymbols);
            }
        }
    }

    /// <summary>Writes the UTF-8 bytes of <paramref name="piece"/> as chars (lone surrogates become U+FFFD).</summary>
    private static int ToByteString(ReadOnlySpan<char> piece, Span<char> destination)
    {
        var length = 0;
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < piece.Length; i++)
        {
            var c = piece[i];
            if (c < 0x80)
            {
                destination[length++] = c;
                continue;
            }

            Rune rune;
            if (!char.IsSurrogate(c))
            {
                rune = new Rune(c);
            }
            else if (char.IsHighSurrogate(c) && i + 1 < piece.Length && char.IsLowSurrogate(piece[i + 1]))
            {
                rune = new Rune(c, piece[++i]);
            }
            else
            {
                rune = Rune.ReplacementChar;
            }

            var n = rune.EncodeToUtf8(utf8);
            for (var b = 0; b < n; b++)
            {
                destination[length++] = (char)utf8[b];
            }
        }

        return length;
    }
}
