using Google.Protobuf;

namespace Guard.Onnx.Builder;

/// <summary>onnx.proto <c>AttributeProto</c> holding one int, float, tensor or list of ints.</summary>
internal sealed class OnnxAttributeProto : ProtoMessage
{
    private const int NameField = 1;
    private const int FloatField = 2;
    private const int IntField = 3;
    private const int TensorField = 5;
    private const int IntsField = 8;
    private const int TypeField = 20;

    private const int FloatType = 1;
    private const int IntType = 2;
    private const int TensorType = 4;
    private const int IntsType = 7;

    private readonly string _name;
    private readonly int _type;
    private readonly float _float;
    private readonly long _int;
    private readonly long[] _ints;
    private readonly OnnxTensorProto? _tensor;

    private OnnxAttributeProto(string name, int type, float f = 0, long i = 0, long[]? ints = null, OnnxTensorProto? tensor = null)
    {
        _name = name;
        _type = type;
        _float = f;
        _int = i;
        _ints = ints ?? [];
        _tensor = tensor;
    }

    public static OnnxAttributeProto Int(string name, long value) => new(name, IntType, i: value);

    public static OnnxAttributeProto Float(string name, float value) => new(name, FloatType, f: value);

    public static OnnxAttributeProto Ints(string name, params long[] values) => new(name, IntsType, ints: values);

    public static OnnxAttributeProto Tensor(string name, OnnxTensorProto value) => new(name, TensorType, tensor: value);

    public override long CalculateSize()
    {
        var size = StringSize(NameField, _name) + Int64Size(TypeField, _type);
        return size + _type switch
        {
            FloatType => CodedOutputStream.ComputeTagSize(FloatField) + sizeof(float),
            IntType => Int64Size(IntField, _int),
            IntsType => _ints.Sum(v => Int64Size(IntsField, v)),
            _ => MessageSize(TensorField, _tensor),
        };
    }

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, NameField, _name);
        switch (_type)
        {
            case FloatType:
                output.WriteTag(FloatField, WireFormat.WireType.Fixed32);
                output.WriteFloat(_float);
                break;
            case IntType:
                WriteInt64(output, IntField, _int);
                break;
            case IntsType:
                foreach (var v in _ints)
                {
                    WriteInt64(output, IntsField, v);
                }

                break;
            default:
                WriteMessage(output, TensorField, _tensor);
                break;
        }

        WriteInt64(output, TypeField, _type);
    }
}
