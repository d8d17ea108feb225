using Guard.Onnx;
using Guard.Onnx.Engine;
using Xunit.Abstractions;

namespace Guard.Tests.Onnx.Engine;

/// <summary>
/// The classic CUDA provider of the GPU build (<c>-p:OnnxRuntimeGpu=true</c>, Microsoft.ML.OnnxRuntime.Gpu.Linux). On a
/// GPU machine with CUDA 13 and cuDNN 9 it checks that the engine runs on CUDA and agrees with the CPU; without them it
/// checks the error names what CUDA needs and that the configured fallback runs on the CPU. Skipped in the CPU build.
/// </summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class ClassicCudaTests(TinyModelFixture fixture, ITestOutputHelper output)
{
    [FactWhenCudaBuild]
    public async Task ClassicProvider_RunsOnCuda_OrFailsClearlyAndFallsBack()
    {
        OnnxGuardEngine engine;
        try
        {
            engine = fixture.CreateEngine(o => o.Provider = OnnxExecutionProvider.Cuda);
        }
        catch (OnnxModelLoadException ex)
        {
            output.WriteLine(ex.Message);
            Assert.Contains("Guard:Onnx:Provider", ex.Message, StringComparison.Ordinal);
            Assert.Contains("CUDA 13", ex.Message, StringComparison.Ordinal);
            Assert.Contains("Guard:Onnx:CudaFallback", ex.Message, StringComparison.Ordinal);
            CudaChecks.AssertFallsBackToCpu(fixture, o => o.Provider = OnnxExecutionProvider.Cuda);
            return;
        }

        using (engine)
        {
            await CudaChecks.AssertAgreesWithCpuAsync(fixture, engine, output);
        }
    }
}

/// <summary>A fact that runs only in the GPU build of ONNX Runtime (the CUDA provider is compiled in).</summary>
public sealed class FactWhenCudaBuildAttribute : FactAttribute
{
    public FactWhenCudaBuildAttribute()
    {
        if (!OnnxRuntimeInfo.GetAvailableProviders().Contains("CUDAExecutionProvider"))
        {
            Skip = "the CPU build of ONNX Runtime has no CUDA provider; build with -p:OnnxRuntimeGpu=true to run";
        }
    }
}
