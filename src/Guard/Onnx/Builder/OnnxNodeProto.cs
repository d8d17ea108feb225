using Google.Protobuf;

namespace Guard.Onnx.Builder;

/// <summary>onnx.proto <c>NodeProto</c>; <paramref name="domain"/> empty for the default (ai.onnx) domain.</summary>
internal sealed class OnnxNodeProto(string name, string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, IReadOnlyList<OnnxAttributeProto> attributes, string domain = "")
    : ProtoMessage
{
    private const int InputField = 1;
    private const int OutputField = 2;
    private const int NameField = 3;
    private const int OpTypeField = 4;
    private const int AttributeField = 5;
    private const int DomainField = 7;

    public string OpType => opType;

    public IReadOnlyList<string> Inputs => inputs;

    public IReadOnlyList<string> Outputs => outputs;

    /// <summary>The operator set domain: empty for ai.onnx, <c>com.microsoft</c> for ONNX Runtime's contrib operators.</summary>
    public string Domain => domain;

    public override long CalculateSize() =>
        inputs.Sum(i => StringSize(InputField, i))
        + outputs.Sum(o => StringSize(OutputField, o))
        + StringSize(NameField, name)
        + StringSize(OpTypeField, opType)
        + MessagesSize(AttributeField, attributes)
        + (domain.Length == 0 ? 0 : StringSize(DomainField, domain));

    public override void WriteTo(CodedOutputStream output)
    {
        foreach (var input in inputs)
        {
            WriteString(output, InputField, input);
        }

        foreach (var o in outputs)
        {
            WriteString(output, OutputField, o);
        }

        WriteString(output, NameField, name);
        WriteString(output, OpTypeField, opType);
        WriteMessages(output, AttributeField, attributes);
        if (domain.Length > 0)
        {
            WriteString(output, DomainField, domain);
        }
    }
}
