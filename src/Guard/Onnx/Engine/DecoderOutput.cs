using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Guard.Onnx.Engine;

/// <summary>What one forward pass returned: the logits (host memory) and the grown KV cache (where the session keeps it).</summary>
/// <remarks>Disposing the output disposes the logits; <see cref="TakePresent"/> hands the cache to the caller.</remarks>
internal sealed class DecoderOutput : IDisposable
{
    private readonly OrtValue _logits;
    private readonly TensorElementType _elementType;
    private KvCache? _present;

    public DecoderOutput(OrtValue logits, TensorElementType elementType, KvCache present, int batch, int positions, int vocab)
    {
        _logits = logits;
        _elementType = elementType;
        _present = present;
        Batch = batch;
        Positions = positions;
        Vocab = vocab;
    }

    /// <summary>Rows.</summary>
    public int Batch { get; }

    /// <summary>Logit positions per row: the new tokens, or 1 for a graph that returns the last position only.</summary>
    public int Positions { get; }

    /// <summary>Vocabulary size.</summary>
    public int Vocab { get; }

    /// <summary>The logits of one row's last position, converted to float when the graph returns float16.</summary>
    /// <param name="row">The row.</param>
    /// <param name="scratch">A buffer of at least <see cref="Vocab"/> floats, used for float16 graphs.</param>
    /// <returns>A span valid until the output is disposed or <paramref name="scratch"/> is reused.</returns>
    public ReadOnlySpan<float> LastLogits(int row, float[] scratch) => LogitsAt(row, Positions - 1, scratch);

    /// <summary>The logits of one row and position.</summary>
    /// <param name="row">The row.</param>
    /// <param name="position">The position among <see cref="Positions"/>.</param>
    /// <param name="scratch">A buffer of at least <see cref="Vocab"/> floats, used for float16 graphs.</param>
    public ReadOnlySpan<float> LogitsAt(int row, int position, float[] scratch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(row, Batch);
        ArgumentOutOfRangeException.ThrowIfNegative(position);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(position, Positions);
        var start = ((row * Positions) + position) * Vocab;
        if (_elementType == TensorElementType.Float)
        {
            return _logits.GetTensorDataAsSpan<float>().Slice(start, Vocab);
        }

        var half = _logits.GetTensorDataAsSpan<Float16>().Slice(start, Vocab);
        var dest = scratch.AsSpan(0, Vocab);
        for (var i = 0; i < half.Length; i++)
        {
            dest[i] = half[i].ToFloat();
        }

        return dest;
    }

    /// <summary>Hands the present KV cache to the caller, who disposes it.</summary>
    public KvCache TakePresent()
    {
        var present = _present ?? throw new InvalidOperationException("The present cache was already taken.");
        _present = null;
        return present;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _logits.Dispose();
        _present?.Dispose();
        _present = null;
    }
}
