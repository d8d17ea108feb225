namespace Guard.Onnx.Builder;

/// <summary>A named weight tensor of a Llama checkpoint and the shape its config implies.</summary>
/// <param name="Name">The Hugging Face tensor name, for example <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
/// <param name="Shape">The shape (<c>[out, in]</c> for linear layers).</param>
public sealed record LlamaTensor(string Name, IReadOnlyList<int> Shape)
{
    /// <summary>The number of elements.</summary>
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);

    /// <summary>The shape as text, for messages: <c>[4096, 4096]</c>.</summary>
    public string ShapeText => FormatShape(Shape);

    /// <summary>Formats a shape for messages.</summary>
    /// <param name="shape">The dimensions.</param>
    /// <returns>The shape as <c>[a, b]</c>.</returns>
    public static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    /// <summary>Formats a shape for messages.</summary>
    /// <param name="shape">The dimensions.</param>
    /// <returns>The shape as <c>[a, b]</c>.</returns>
    public static string FormatShape(IEnumerable<int> shape) => "[" + string.Join(", ", shape) + "]";
}
