namespace Guard.Onnx.Builder;

/// <summary>The element types of onnx.proto's <c>TensorProto.DataType</c> that the builder writes.</summary>
internal enum OnnxDataType
{
    Float = 1,
    Int32 = 6,
    Int64 = 7,
    Bool = 9,
    Float16 = 10,
}
