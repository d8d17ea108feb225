namespace Guard.Onnx.Engine;

/// <summary>Where the ONNX guard engine runs the model.</summary>
public enum OnnxExecutionProvider
{
    /// <summary>ONNX Runtime's CPU execution provider (always available).</summary>
    Cpu,

    /// <summary>NVIDIA CUDA: the plugin execution provider library when a path is configured, else the classic provider of a GPU build.</summary>
    Cuda,
}
