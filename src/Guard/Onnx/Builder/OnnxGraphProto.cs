using Google.Protobuf;

namespace Guard.Onnx.Builder;

/// <summary>onnx.proto <c>GraphProto</c>: nodes in topological order, initializers, inputs and outputs.</summary>
internal sealed class OnnxGraphProto(string name) : ProtoMessage
{
    private const int NodeField = 1;
    private const int NameField = 2;
    private const int InitializerField = 5;
    private const int InputField = 11;
    private const int OutputField = 12;

    public List<OnnxNodeProto> Nodes { get; } = [];

    public List<OnnxTensorProto> Initializers { get; } = [];

    public List<OnnxValueInfoProto> Inputs { get; } = [];

    public List<OnnxValueInfoProto> Outputs { get; } = [];

    public override long CalculateSize() =>
        MessagesSize(NodeField, Nodes)
        + StringSize(NameField, name)
        + MessagesSize(InitializerField, Initializers)
        + MessagesSize(InputField, Inputs)
        + MessagesSize(OutputField, Outputs);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteMessages(output, NodeField, Nodes);
        WriteString(output, NameField, name);
        WriteMessages(output, InitializerField, Initializers);
        WriteMessages(output, InputField, Inputs);
        WriteMessages(output, OutputField, Outputs);
    }
}
