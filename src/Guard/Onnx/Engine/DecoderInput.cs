namespace Guard.Onnx.Engine;

/// <summary>
/// One forward pass's token inputs for a batch of rows: ids and positions [batch, sequence], attention mask
/// [batch, past + sequence].
/// </summary>
/// <remarks>
/// The mask and positions are explicit so that a batcher can pad rows of different lengths (mask 0 on padding,
/// positions counting real tokens only) without changing the session code (docs/adr/006).
/// </remarks>
internal sealed class DecoderInput
{
    /// <summary>Creates the inputs; arrays are row-major and not copied.</summary>
    /// <param name="batch">Rows.</param>
    /// <param name="sequence">New tokens per row.</param>
    /// <param name="pastLength">Positions already in the KV cache per row.</param>
    /// <param name="inputIds">[batch, sequence] token ids.</param>
    /// <param name="positionIds">[batch, sequence] positions.</param>
    /// <param name="attentionMask">[batch, pastLength + sequence]: 1 for real tokens, 0 for padding.</param>
    public DecoderInput(int batch, int sequence, int pastLength, long[] inputIds, long[] positionIds, long[] attentionMask)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(sequence, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(pastLength);
        ArgumentOutOfRangeException.ThrowIfNotEqual(inputIds.Length, batch * sequence, nameof(inputIds));
        ArgumentOutOfRangeException.ThrowIfNotEqual(positionIds.Length, batch * sequence, nameof(positionIds));
        ArgumentOutOfRangeException.ThrowIfNotEqual(attentionMask.Length, batch * (pastLength + sequence), nameof(attentionMask));
        Batch = batch;
        Sequence = sequence;
        PastLength = pastLength;
        InputIds = inputIds;
        PositionIds = positionIds;
        AttentionMask = attentionMask;
    }

    /// <summary>Rows.</summary>
    public int Batch { get; }

    /// <summary>New tokens per row.</summary>
    public int Sequence { get; }

    /// <summary>Positions already cached per row.</summary>
    public int PastLength { get; }

    /// <summary>[batch, sequence] token ids.</summary>
    public long[] InputIds { get; }

    /// <summary>[batch, sequence] positions.</summary>
    public long[] PositionIds { get; }

    /// <summary>[batch, past + sequence] mask.</summary>
    public long[] AttentionMask { get; }

    /// <summary>One unpadded row continuing a cache of <paramref name="pastLength"/> positions.</summary>
    /// <param name="ids">The new tokens.</param>
    /// <param name="pastLength">Positions already cached.</param>
    public static DecoderInput Single(ReadOnlySpan<int> ids, int pastLength)
    {
        var inputIds = new long[ids.Length];
        var positions = new long[ids.Length];
        for (var i = 0; i < ids.Length; i++)
        {
            inputIds[i] = ids[i];
            positions[i] = pastLength + i;
        }

        var mask = new long[pastLength + ids.Length];
        Array.Fill(mask, 1L);
        return new DecoderInput(1, ids.Length, pastLength, inputIds, positions, mask);
    }
}
