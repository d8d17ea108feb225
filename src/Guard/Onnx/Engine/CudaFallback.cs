namespace Guard.Onnx.Engine;

/// <summary>What the engine does when CUDA is configured but cannot be used (no GPU, missing CUDA libraries, a CPU-only build).</summary>
public enum CudaFallback
{
    /// <summary>Start-up fails with an error that names what is missing (the default: a GPU deployment that silently runs on CPU is an outage).</summary>
    Fail,

    /// <summary>The engine runs on the CPU and reports the fallback in <see cref="OnnxGuardEngine.Warnings"/>, for the host to log.</summary>
    UseCpu,
}
