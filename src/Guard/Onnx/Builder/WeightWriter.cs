using Guard.Onnx.Models;

namespace Guard.Onnx.Builder;

/// <summary>
/// Turns weights into initializers: inline (<c>raw_data</c> produced while <c>model.onnx</c> is written) or external
/// (written at once to the data file, one tensor at a time, each at a 4096-byte aligned offset so ONNX Runtime can map it).
/// </summary>
/// <remarks>Either way only one tensor is held in memory at a time, so a 7B-shaped model streams through. The data
/// file is hashed as it is written (<see cref="Complete"/>).</remarks>
internal sealed class WeightWriter : IDisposable
{
    private const int Alignment = 4096;

    private readonly OnnxDataType _type;
    private readonly HashingFileStream? _data;
    private readonly string? _location;

    /// <param name="type">The element type of the weights.</param>
    /// <param name="externalDataPath">The external data file, or <c>null</c> for inline weights.</param>
    public WeightWriter(OnnxDataType type, string? externalDataPath)
    {
        _type = type;
        if (externalDataPath is not null)
        {
            _data = new HashingFileStream(externalDataPath);
            _location = Path.GetFileName(externalDataPath);
        }
    }

    public bool IsExternal => _data is not null;

    /// <summary>Adds a weight tensor whose values <paramref name="values"/> produces (row-major, <paramref name="dims"/>).</summary>
    public OnnxTensorProto Add(string name, long[] dims, Func<float[]> values)
    {
        var count = dims.Aggregate(1L, (a, d) => a * d);
        var length = count * WeightEncoder.ElementSize(_type);
        if (_data is null)
        {
            return OnnxTensorProto.Inline(name, _type, dims, length, () => WeightEncoder.ToBytes(Checked(name, values(), count), _type));
        }

        var padding = (Alignment - (_data.Position % Alignment)) % Alignment;
        if (padding > 0)
        {
            _data.Write(new byte[padding]);
        }

        var offset = _data.Position;
        WeightEncoder.Write(_data, Checked(name, values(), count), _type);
        return OnnxTensorProto.External(name, _type, dims, _location!, offset, length);
    }

    /// <summary>Closes the external data file and returns its digest; <see langword="null"/> for inline weights.</summary>
    public ModelFileDigest? Complete() => _data?.Complete(_location!);

    public void Dispose() => _data?.Dispose();

    private static float[] Checked(string name, float[] values, long expected) =>
        values.LongLength == expected
            ? values
            : throw new InvalidDataException($"Weight tensor '{name}' has {values.LongLength} values; its shape needs {expected}.");
}
