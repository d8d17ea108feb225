using Google.Protobuf;

namespace Guard.Onnx.Builder;

/// <summary>onnx.proto <c>ValueInfoProto</c> of a tensor: name, element type and shape (each dimension a number or a symbolic name).</summary>
internal sealed class OnnxValueInfoProto : ProtoMessage
{
    private const int NameField = 1;
    private const int TypeField = 2;

    private readonly TypeProto _type;

    /// <param name="name">The graph input or output name.</param>
    /// <param name="elementType">The element type.</param>
    /// <param name="dims">Each dimension: a <see cref="long"/> size or a <see cref="string"/> symbolic name.</param>
    public OnnxValueInfoProto(string name, OnnxDataType elementType, params object[] dims)
    {
        Name = name;
        ElementType = elementType;
        _type = new TypeProto(new TensorTypeProto(elementType, new ShapeProto([.. dims.Select(d => new DimensionProto(d))])));
    }

    public string Name { get; }

    public OnnxDataType ElementType { get; }

    public override long CalculateSize() => StringSize(NameField, Name) + MessageSize(TypeField, _type);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, NameField, Name);
        WriteMessage(output, TypeField, _type);
    }

    /// <summary><c>TypeProto</c> with its <c>tensor_type</c> (field 1) set.</summary>
    private sealed class TypeProto(TensorTypeProto tensor) : ProtoMessage
    {
        public override long CalculateSize() => MessageSize(1, tensor);

        public override void WriteTo(CodedOutputStream output) => WriteMessage(output, 1, tensor);
    }

    /// <summary><c>TypeProto.Tensor</c>: <c>elem_type</c> = 1, <c>shape</c> = 2.</summary>
    private sealed class TensorTypeProto(OnnxDataType elementType, ShapeProto shape) : ProtoMessage
    {
        public override long CalculateSize() => Int64Size(1, (long)elementType) + MessageSize(2, shape);

        public override void WriteTo(CodedOutputStream output)
        {
            WriteInt64(output, 1, (long)elementType);
            WriteMessage(output, 2, shape);
        }
    }

    /// <summary><c>TensorShapeProto</c>: repeated <c>dim</c> = 1.</summary>
    private sealed class ShapeProto(IReadOnlyList<DimensionProto> dims) : ProtoMessage
    {
        public override long CalculateSize() => MessagesSize(1, dims);

        public override void WriteTo(CodedOutputStream output) => WriteMessages(output, 1, dims);
    }

    /// <summary><c>TensorShapeProto.Dimension</c>: <c>dim_value</c> = 1 or <c>dim_param</c> = 2.</summary>
    private sealed class DimensionProto(object dim) : ProtoMessage
    {
        public override long CalculateSize() => dim switch
        {
            string param => StringSize(2, param),
            _ => Int64Size(1, Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture)),
        };

        public override void WriteTo(CodedOutputStream output)
        {
            if (dim is string param)
            {
                WriteString(output, 2, param);
            }
            else
            {
                WriteInt64(output, 1, Convert.ToInt64(dim, System.Globalization.CultureInfo.InvariantCulture));
            }
        }
    }
}
