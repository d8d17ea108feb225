namespace Guard.Onnx.Builder;

/// <summary>One tensor of a safetensors header: dtype, shape and its byte range in the data buffer.</summary>
internal sealed record SafetensorsEntry(string DType, long[] Shape, long Begin, long End)
{
    /// <summary>The dtypes the builder converts to float32.</summary>
    public static IReadOnlyList<string> SupportedDTypes { get; } = ["F32", "F16", "BF16"];

    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>Bytes per element, 0 for dtypes the builder does not read.</summary>
    public int ElementSize => DType switch
    {
        "F32" => 4,
        "F16" or "BF16" => 2,
        _ => 0,
    };
}
