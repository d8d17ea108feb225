using System.Buffers;
using System.Text;

namespace Guard.Tokenizers;

/// <summary>
/// What the Llama tokenizers share: control tokens, the segment (template) API, and decoding through a byte table.
/// The families differ only in how a run of plain text becomes ids (<see cref="EncodeText"/>).
/// </summary>
internal abstract class LlamaTokenizer : ITokenizer
{
    [ThreadStatic]
    private static List<int>? _scratch;

    private readonly SpecialTokenSet _specials;
    private readonly TokenBytesTable _tokenBytes;
    private readonly bool _stripLeadingSpace;

    /// <summary>Initializes a new instance of the <see cref="LlamaTokenizer"/> class.</summary>
    /// <param name="settings">The family, ids and tables shared by every family.</param>
    protected LlamaTokenizer(LlamaTokenizerSettings settings)
    {
        Family = settings.Family;
        _specials = settings.Specials;
        _tokenBytes = settings.TokenBytes;
        _stripLeadingSpace = settings.StripLeadingSpaceOnDecode;
        VocabSize = settings.TokenBytes.Count;
        BosId = settings.BosId;
        EosId = settings.EosId;
        StopIds = settings.StopIds;
    }

    /// <inheritdoc />
    public string Family { get; }

    /// <inheritdoc />
    public int VocabSize { get; }

    /// <inheritdoc />
    public int BosId { get; }

    /// <inheritdoc />
    public int EosId { get; }

    /// <inheritdoc />
    public IReadOnlyList<int> StopIds { get; }

    /// <inheritdoc />
    public bool TryGetSpecialTokenId(string tokenText, out int id)
    {
        ArgumentNullException.ThrowIfNull(tokenText);
        return _specials.TryGetId(tokenText, out id);
    }

    /// <inheritdoc />
    public int[] Encode(ReadOnlySpan<char> text, bool addBos)
    {
        var ids = Scratch();
        if (addBos)
        {
            ids.Add(BosId);
        }

        EncodeText(text, atStart: true, ids);
        return [.. ids];
    }

    /// <inheritdoc />
    public void EncodeTo(ReadOnlySpan<char> text, List<int> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        EncodeText(text, atStart: true, destination);
    }

    /// <inheritdoc />
    public int[] Encode(ReadOnlySpan<TokenSegment> segments)
    {
        var ids = Scratch();
        EncodeTo(segments, ids);
        return [.. ids];
    }

    /// <inheritdoc />
    public void EncodeTo(ReadOnlySpan<TokenSegment> segments, List<int> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var i = 0;
        while (i < segments.Length)
        {
            var segment = segments[i];
            if (segment.Value is null)
            {
                throw new ArgumentException($"Segment {i} is default(TokenSegment); use TokenSegment.PlainText or TokenSegment.ControlToken.", nameof(segments));
            }

            if (segment.IsControlToken)
            {
                if (!_specials.TryGetId(segment.Value, out var id))
                {
                    throw new ArgumentException($"Segment {i}: '{segment.Value}' is not a control token of the {Family} vocabulary.", nameof(segments));
                }

                destination.Add(id);
                i++;
                continue;
            }

            // Adjacent text segments form one text: a template may split its text freely without changing the ids.
            var end = i + 1;
            while (end < segments.Length && segments[end].Value is not null && !segments[end].IsControlToken)
            {
                end++;
            }

            if (end == i + 1)
            {
                EncodeText(segment.Value, atStart: i == 0, destination);
            }
            else
            {
                EncodeJoined(segments[i..end], atStart: i == 0, destination);
            }

            i = end;
        }
    }

    /// <inheritdoc />
    public int CountTokens(ReadOnlySpan<char> text)
    {
        var ids = Scratch();
        EncodeText(text, atStart: true, ids);
        return ids.Count;
    }

    /// <inheritdoc />
    public string Decode(ReadOnlySpan<int> ids) => Decode(ids, skipSpecialTokens: false);

    /// <inheritdoc />
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var length = 0;
        for (var i = 0; i < ids.Length; i++)
        {
            if (!_tokenBytes.TryGet(ids[i], out var bytes))
            {
                throw new ArgumentOutOfRangeException(nameof(ids), ids[i], $"Token id at index {i} is not in the {Family} vocabulary (0..{VocabSize - 1}).");
            }

            if (!skipSpecialTokens || !_specials.Contains(ids[i]))
            {
                length += bytes.Length;
            }
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, length));
        try
        {
            var at = 0;
            foreach (var id in ids)
            {
                if (skipSpecialTokens && _specials.Contains(id))
                {
                    continue;
                }

                _tokenBytes.TryGet(id, out var bytes);
                bytes.CopyTo(buffer.AsSpan(at));
                at += bytes.Length;
            }

            var start = _stripLeadingSpace && at > 0 && buffer[0] == (byte)' ' ? 1 : 0;
            return Encoding.UTF8.GetString(buffer, start, at - start);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Appends the ids of a run of plain text.</summary>
    /// <param name="text">The text; control-token strings in it are text.</param>
    /// <param name="atStart">Whether the text starts the input (no segment precedes it).</param>
    /// <param name="destination">The list the ids are appended to.</param>
    protected abstract void EncodeText(ReadOnlySpan<char> text, bool atStart, List<int> destination);

    private static List<int> Scratch()
    {
        var list = _scratch ??= new List<int>(256);
        list.Clear();
        return list;
    }

    private void EncodeJoined(ReadOnlySpan<TokenSegment> texts, bool atStart, List<int> destination)
    {
        var length = 0;
        foreach (var t in texts)
        {
            length += t.Value.Length;
        }

        var buffer = ArrayPool<char>.Shared.Rent(Math.Max(1, length));
        try
        {
            var at = 0;
            foreach (var t in texts)
            {
                t.Value.CopyTo(buffer.AsSpan(at));
                at += t.Value.Length;
            }

            EncodeText(buffer.AsSpan(0, at), atStart, destination);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }
}
