using System.Diagnostics.CodeAnalysis;

namespace Guard.Onnx.Models;

/// <summary>The manifest spelling of <see cref="OnnxDType"/> (<c>float32</c>, <c>float16</c>).</summary>
[SuppressMessage("Naming", "CA1720:Identifiers should not contain type names", Justification = "Float32/Float16 are the ONNX and manifest names of these types.")]
public static class OnnxDTypeNames
{
    /// <summary>The manifest name of <see cref="OnnxDType.Float32"/>.</summary>
    public const string Float32 = "float32";

    /// <summary>The manifest name of <see cref="OnnxDType.Float16"/>.</summary>
    public const string Float16 = "float16";

    /// <summary>Returns the manifest name of a dtype.</summary>
    /// <param name="dtype">The dtype.</param>
    /// <returns><c>float32</c> or <c>float16</c>.</returns>
    public static string ToManifestName(this OnnxDType dtype) => dtype switch
    {
        OnnxDType.Float32 => Float32,
        OnnxDType.Float16 => Float16,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype."),
    };

    /// <summary>Parses a manifest dtype name.</summary>
    /// <param name="name"><c>float32</c> or <c>float16</c>.</param>
    /// <param name="dtype">The dtype.</param>
    /// <returns>Whether the name is known.</returns>
    public static bool TryParse(string? name, out OnnxDType dtype)
    {
        switch (name)
        {
            case Float32:
                dtype = OnnxDType.Float32;
                return true;
            case Float16:
                dtype = OnnxDType.Float16;
                return true;
            default:
                dtype = default;
                return false;
        }
    }
}
