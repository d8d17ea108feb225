using Google.Protobuf;

namespace Guard.Onnx.Builder;

/// <summary>onnx.proto <c>StringStringEntryProto</c> (external data keys, model metadata).</summary>
internal sealed class OnnxStringEntryProto(string key, string value) : ProtoMessage
{
    private const int KeyField = 1;
    private const int ValueField = 2;

    public override long CalculateSize() => StringSize(KeyField, key) + StringSize(ValueField, value);

    public override void WriteTo(CodedOutputStream output)
    {
        WriteString(output, KeyField, key);
        WriteString(output, ValueField, value);
    }
}
