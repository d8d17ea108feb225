using System.Diagnostics.CodeAnalysis;

namespace Guard.Onnx.Models;

/// <summary>The floating-point type of a built model's weights, activations, KV cache and logits.</summary>
[SuppressMessage("Naming", "CA1720:Identifiers should not contain type names", Justification = "Float32/Float16 are the ONNX and manifest names of these types.")]
public enum OnnxDType
{
    /// <summary>IEEE single precision (<c>float32</c> in the manifest).</summary>
    Float32,

    /// <summary>IEEE half precision (<c>float16</c> in the manifest); norms and softmax are computed in float32.</summary>
    Float16,
}
