using Microsoft.ML.OnnxRuntime;

namespace Guard.Onnx;

/// <summary>
/// Facts about the ONNX Runtime the process has loaded: its version and the execution providers it was built with.
/// </summary>
public static class OnnxRuntimeInfo
{
    /// <summary>
    /// Gets the version of the loaded native ONNX Runtime library, for example <c>1.31.1</c>.
    /// Creates the process-wide ONNX Runtime environment if it does not exist yet.
    /// </summary>
    /// <returns>The ONNX Runtime version string.</returns>
    public static string GetVersion() => OrtEnv.Instance().GetVersionString();

    /// <summary>
    /// Gets the names of the execution providers available in the loaded ONNX Runtime build, for example
    /// <c>CPUExecutionProvider</c>. Plugin execution providers registered at run time are not listed here.
    /// Creates the process-wide ONNX Runtime environment if it does not exist yet.
    /// </summary>
    /// <returns>The execution provider names, in the order ONNX Runtime reports them.</returns>
    public static IReadOnlyList<string> GetAvailableProviders() => OrtEnv.Instance().GetAvailableProviders();
}
