using Microsoft.ML.OnnxRuntime;

namespace Guard.Onnx.Engine;

/// <summary>
/// The key/value tensors of every layer for a batch of sequences, as the graph returned them (<c>present.*</c>) or
/// as they are fed back (<c>past_key_values.*</c>): key then value per layer, each [batch, kv_heads, length, head_dim].
/// </summary>
/// <remarks>
/// The tensors live where the session put them (host memory on CPU, device memory on CUDA), so feeding them back costs
/// no copy. A cache is read-only once built: the shared prefix caches are bound as inputs by many runs at once, which
/// ONNX Runtime allows because inputs are never written. Whoever created a cache disposes it.
/// </remarks>
internal sealed class KvCache : IDisposable
{
    private readonly OrtValue[] _values;

    /// <summary>Creates a cache that owns <paramref name="values"/>.</summary>
    /// <param name="values">Key then value per layer.</param>
    /// <param name="batch">Rows.</param>
    /// <param name="length">Positions held per row (padding included).</param>
    public KvCache(OrtValue[] values, int batch, int length)
    {
        _values = values;
        Batch = batch;
        Length = length;
    }

    /// <summary>Rows.</summary>
    public int Batch { get; }

    /// <summary>Positions held per row.</summary>
    public int Length { get; }

    /// <summary>The tensors, key then value per layer.</summary>
    public IReadOnlyList<OrtValue> Values => _values;

    /// <summary>Whether the tensors have been released.</summary>
    public bool IsDisposed { get; private set; }

    /// <summary>Creates an empty cache (length 0) for a run without past.</summary>
    /// <param name="signature">The graph signature.</param>
    /// <param name="batch">Rows.</param>
    public static KvCache Empty(DecoderSignature signature, int batch)
    {
        var shape = new long[] { batch, signature.Config.NumKvHeads, 0, signature.Config.HeadDim };
        var values = new OrtValue[signature.PastNames.Length];
        try
        {
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, signature.ElementType, shape);
            }
        }
        catch
        {
            foreach (var v in values)
            {
                v?.Dispose();
            }

            throw;
        }

        return new KvCache(values, batch, 0);
    }

    /// <summary>
    /// A new host-memory cache with <paramref name="source"/>'s single row repeated <paramref name="batch"/> times (the
    /// past of a batch that starts from a shared prefix, for graphs whose past must have the batch's rows).
    /// </summary>
    /// <param name="source">A batch-1 cache in host memory.</param>
    /// <param name="batch">Rows.</param>
    /// <param name="elementType">The tensors' element type.</param>
    public static KvCache Tile(KvCache source, int batch, Microsoft.ML.OnnxRuntime.Tensors.TensorElementType elementType)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(source.Batch, 1);
        var values = new OrtValue[source._values.Length];
        try
        {
            for (var i = 0; i < values.Length; i++)
            {
                var shape = source._values[i].GetTensorTypeAndShape().Shape;
                shape[0] = batch;
                values[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, elementType, shape);
                var row = source._values[i].GetTensorMutableRawData();
                var target = values[i].GetTensorMutableRawData();
                for (var r = 0; r < batch; r++)
                {
                    row.CopyTo(target.Slice(r * row.Length, row.Length));
                }
            }
        }
        catch
        {
            foreach (var v in values)
            {
                v?.Dispose();
            }

            throw;
        }

        return new KvCache(values, batch, source.Length);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        IsDisposed = true;
        foreach (var v in _values)
        {
            v?.Dispose();
        }
    }
}
