using Google.Protobuf;

namespace Guard.Onnx.Builder;

/// <summary>onnx.proto <c>ModelProto</c> importing the default (ai.onnx) operator set, and with
/// <paramref name="contribOperators"/> ONNX Runtime's <c>com.microsoft</c> set version 1.</summary>
internal sealed class OnnxModelProto(OnnxGraphProto graph, bool contribOperators = false) : ProtoMessage
{
    /// <summary>IR version 8 (ONNX 1.13+), well inside what ONNX Runtime 1.31 reads.</summary>
    public const long IrVersion = 8;

    /// <summary>ai.onnx opset 17: ReduceMean still takes <c>axes</c> as an attribute; LessOrEqual and Where are available.</summary>
    public const long OpsetVersion = 17;

    private const int IrVersionField = 1;
    private const int ProducerNameField = 2;
    private const int ProducerVersionField = 3;
    private const int DocStringField = 6;
    private const int GraphField = 7;
    private const int OpsetImportField = 8;
    private const int MetadataField = 14;

    /// <summary>The <c>com.microsoft</c> operator set version of the contrib operators.</summary>
    public const long ContribOpsetVersion = 1;

    private readonly OpsetProto[] _opsets = contribOperators
        ? [new(string.Empty, OpsetVersion), new(OnnxGraphBuilder.ContribDomain, ContribOpsetVersion)]
        : [new(string.Empty, OpsetVersion)];

    public string ProducerName { get; init; } = "Guard.Onnx.Builder";

    public string ProducerVersion { get; init; } = "1";

    public string? DocString { get; init; }

    public List<OnnxStringEntryProto> Metadata { get; } = [];

    public override long CalculateSize() =>
        Int64Size(IrVersionField, IrVersion)
        + StringSize(ProducerNameField, ProducerName)
        + StringSize(ProducerVersionField, ProducerVersion)
        + StringSize(DocStringField, DocString)
        + MessageSize(GraphField, graph)
        + MessagesSize(OpsetImportField, _opsets)
        + MessagesSize(MetadataField, Metadata);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteInt64(output, IrVersionField, IrVersion);
        WriteString(output, ProducerNameField, ProducerName);
        WriteString(output, ProducerVersionField, ProducerVersion);
        WriteString(output, DocStringField, DocString);
        WriteMessage(output, GraphField, graph);
        WriteMessages(output, OpsetImportField, _opsets);
        WriteMessages(output, MetadataField, Metadata);
    }

    /// <summary>Writes the model to a stream.</summary>
    public void WriteTo(Stream stream)
    {
        CheckedLength(CalculateSize());
        using var output = new CodedOutputStream(stream, leaveOpen: true);
        WriteTo(output);
        output.Flush();
    }

    /// <summary><c>OperatorSetIdProto</c>: <c>domain</c> = 1 (empty: ai.onnx, omitted), <c>version</c> = 2.</summary>
    private sealed class OpsetProto(string domain, long version) : ProtoMessage
    {
        public override long CalculateSize() => (domain.Length == 0 ? 0 : StringSize(1, domain)) + Int64Size(2, version);

        public override void WriteTo(CodedOutputStream output)
        {
            if (domain.Length > 0)
            {
                WriteString(output, 1, domain);
            }

            WriteInt64(output, 2, version);
        }
    }
}
