namespace Guard.Tokenizers;

/// <summary>The bytes each token id decodes to, stored flat (one array and offsets) for every id of a vocabulary.</summary>
internal sealed class TokenBytesTable
{
    private readonly byte[] _bytes;
    private readonly int[] _offsets;

    /// <summary>Initializes a new instance of the <see cref="TokenBytesTable"/> class.</summary>
    /// <param name="tokens">The bytes of each id; <see langword="null"/> for an id the vocabulary does not assign.</param>
    public TokenBytesTable(IReadOnlyList<byte[]?> tokens)
    {
        _offsets = new int[tokens.Count + 1];
        var total = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            total += tokens[i]?.Length ?? 0;
        }

        _bytes = new byte[total];
        var at = 0;
        for (var i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t is null)
            {
                _offsets[i] = ~at; // unassigned id
                continue;
            }

            _offsets[i] = at;
            t.CopyTo(_bytes, at);
            at += t.Length;
        }

        _offsets[tokens.Count] = at;
    }

    /// <summary>Gets the number of ids.</summary>
    public int Count => _offsets.Length - 1;

    /// <summary>Gets the bytes of a token.</summary>
    /// <param name="id">The token id.</param>
    /// <param name="bytes">The bytes when the id is assigned.</param>
    /// <returns>Whether the id is inside the vocabulary and assigned.</returns>
    public bool TryGet(int id, out ReadOnlySpan<byte> bytes)
    {
        if ((uint)id >= (uint)Count || _offsets[id] < 0)
        {
            bytes = default;
            return false;
        }

        var start = _offsets[id];
        var end = _offsets[id + 1];
        if (end < 0)
        {
            end = ~end;
        }

        bytes = _bytes.AsSpan(start, end - start);
        return true;
    }
}
