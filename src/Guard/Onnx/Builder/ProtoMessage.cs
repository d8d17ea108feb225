using Google.Protobuf;

namespace Guard.Onnx.Builder;

/// <summary>
/// A protobuf message written field by field with <see cref="CodedOutputStream"/>: the builder's onnx.proto messages
/// derive from it instead of generated classes, so tensor bytes can be produced lazily while the file is written.
/// </summary>
/// <remarks>Sizes are computed, not buffered, so a nested message is never copied; every size is checked against the
/// 2 GiB protobuf limit.</remarks>
internal abstract class ProtoMessage
{
    /// <summary>Returns the serialized size in bytes.</summary>
    public abstract long CalculateSize();

    /// <summary>Writes the fields (not a length prefix).</summary>
    public abstract void WriteTo(CodedOutputStream output);

    protected static long StringSize(int field, string? value) =>
        value is null ? 0 : CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeStringSize(value);

    protected static long Int64Size(int field, long value) =>
        CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeInt64Size(value);

    protected static long BytesSize(int field, long length) =>
        CodedOutputStream.ComputeTagSize(field) + CodedOutputStream.ComputeLengthSize(CheckedLength(length)) + length;

    protected static long MessageSize(int field, ProtoMessage? message) =>
        message is null ? 0 : BytesSize(field, message.CalculateSize());

    protected static long MessagesSize(int field, IEnumerable<ProtoMessage> messages) =>
        messages.Sum(m => MessageSize(field, m));

    protected static void WriteString(CodedOutputStream output, int field, string? value)
    {
        if (value is null)
        {
            return;
        }

        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
    }

    protected static void WriteInt64(CodedOutputStream output, int field, long value)
    {
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteInt64(value);
    }

    protected static void WriteBytes(CodedOutputStream output, int field, ReadOnlyMemory<byte> bytes)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(UnsafeByteOperations.UnsafeWrap(bytes));
    }

    protected static void WriteMessage(CodedOutputStream output, int field, ProtoMessage? message)
    {
        if (message is null)
        {
            return;
        }

        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteLength(CheckedLength(message.CalculateSize()));
        message.WriteTo(output);
    }

    protected static void WriteMessages(CodedOutputStream output, int field, IEnumerable<ProtoMessage> messages)
    {
        foreach (var message in messages)
        {
            WriteMessage(output, field, message);
        }
    }

    /// <summary>Protobuf lengths are 32-bit: a message or field over 2 GiB cannot be written (use external data).</summary>
    protected static int CheckedLength(long length) =>
        length <= int.MaxValue
            ? (int)length
            : throw new InvalidOperationException($"A protobuf field of {length} bytes exceeds the 2 GiB limit; write the weights as external data.");
}
