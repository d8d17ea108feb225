using System.Globalization;
using Google.Protobuf;

namespace Guard.Onnx.Builder;

/// <summary>onnx.proto <c>TensorProto</c>: an initializer with inline <c>raw_data</c> (produced lazily) or external data.</summary>
internal sealed class OnnxTensorProto : ProtoMessage
{
    private const int DimsField = 1;
    private const int DataTypeField = 2;
    private const int NameField = 8;
    private const int RawDataField = 9;
    private const int ExternalDataField = 13;
    private const int DataLocationField = 14;
    private const int ExternalLocation = 1;

    private readonly Func<byte[]>? _rawData;
    private readonly long _rawLength;
    private readonly List<OnnxStringEntryProto> _external = [];

    private OnnxTensorProto(string name, OnnxDataType dataType, long[] dims, Func<byte[]>? rawData, long rawLength)
    {
        Name = name;
        DataType = dataType;
        Dims = dims;
        _rawData = rawData;
        _rawLength = rawLength;
    }

    public string Name { get; }

    public OnnxDataType DataType { get; }

    public IReadOnlyList<long> Dims { get; }

    /// <summary>Whether the data lives in the external data file.</summary>
    public bool IsExternal => _external.Count > 0;

    /// <summary>A tensor whose <c>raw_data</c> (little-endian) is produced when the file is written.</summary>
    public static OnnxTensorProto Inline(string name, OnnxDataType dataType, long[] dims, long byteLength, Func<byte[]> rawData) =>
        new(name, dataType, dims, rawData, byteLength);

    /// <summary>A tensor with its data at <paramref name="offset"/> in <paramref name="location"/> (relative to the model file).</summary>
    public static OnnxTensorProto External(string name, OnnxDataType dataType, long[] dims, string location, long offset, long length)
    {
        var tensor = new OnnxTensorProto(name, dataType, dims, null, 0);
        tensor._external.Add(new OnnxStringEntryProto("location", location));
        tensor._external.Add(new OnnxStringEntryProto("offset", offset.ToString(CultureInfo.InvariantCulture)));
        tensor._external.Add(new OnnxStringEntryProto("length", length.ToString(CultureInfo.InvariantCulture)));
        return tensor;
    }

    public override long CalculateSize()
    {
        var size = Dims.Sum(d => Int64Size(DimsField, d)) + Int64Size(DataTypeField, (long)DataType) + StringSize(NameField, Name);
        if (IsExternal)
        {
            size += MessagesSize(ExternalDataField, _external) + Int64Size(DataLocationField, ExternalLocation);
        }
        else
        {
            size += BytesSize(RawDataField, _rawLength);
        }

        return size;
    }

    public override void WriteTo(CodedOutputStream output)
    {
        foreach (var dim in Dims)
        {
            WriteInt64(output, DimsField, dim);
        }

        WriteInt64(output, DataTypeField, (long)DataType);
        WriteString(output, NameField, Name);
        if (IsExternal)
        {
            WriteMessages(output, ExternalDataField, _external);
            WriteInt64(output, DataLocationField, ExternalLocation);
            return;
        }

        var bytes = _rawData!();
        if (bytes.Length != _rawLength)
        {
            throw new InvalidOperationException($"Tensor '{Name}' produced {bytes.Length} bytes, expected {_rawLength}.");
        }

        WriteBytes(output, RawDataField, bytes);
    }
}
