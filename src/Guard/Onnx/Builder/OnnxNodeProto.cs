using Google.Protobuf;

namespace Guard.Onnx.Builder;

/// <summary>onnx.proto <c>NodeProto</c> of the default (ai.onnx) domain.</summary>
internal sealed class OnnxNodeProto(string name, string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, IReadOnlyList<OnnxAttributeProto> attributes)
    : ProtoMessage
{
    private const int InputField = 1;
    private const int OutputField = 2;
    private const int NameField = 3;
    private const int OpTypeField = 4;
    private const int AttributeField = 5;

    public string OpType => opType;

    public IReadOnlyList<string> Inputs => inputs;

    public IReadOnlyList<string> Outputs => outputs;

    public override long CalculateSize() =>
        inputs.Sum(i => StringSize(InputField, i))
        + outputs.Sum(o => StringSize(OutputField, o))
        + StringSize(NameField, name)
        + StringSize(OpTypeField, opType)
        + MessagesSize(AttributeField, attributes);

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
    }
}
