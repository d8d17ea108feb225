using Guard.Onnx.Engine;
using Xunit.Abstractions;

namespace Guard.Tests.Onnx.Engine;

/// <summary>The checks both CUDA paths (classic provider, plugin library) share.</summary>
internal static class CudaChecks
{
    /// <summary>With <c>CudaFallback = UseCpu</c>, the same CUDA settings start on the CPU and say so.</summary>
    public static void AssertFallsBackToCpu(TinyModelFixture fixture, Action<OnnxGuardEngineOptions> cuda)
    {
        using var fallback = fixture.CreateEngine(o =>
        {
            cuda(o);
            o.CudaFallback = CudaFallback.UseCpu;
        });
        Assert.Equal("CPUExecutionProvider", fallback.ExecutionProvider);
        Assert.Contains(fallback.Warnings, w => w.Contains("Falling back to the CPU", StringComparison.Ordinal));
    }

    /// <summary>The engine runs on CUDA and its unsafe probabilities agree with the CPU's within 1e-3 relative.</summary>
    public static async Task AssertAgreesWithCpuAsync(TinyModelFixture fixture, OnnxGuardEngine engine, ITestOutputHelper output)
    {
        Assert.Equal("CUDAExecutionProvider", engine.ExecutionProvider);
        using var cpu = fixture.CreateEngine();
        foreach (var conversation in Conversations.All())
        {
            var gpu = await engine.ClassifyAsync(conversation, CancellationToken.None);
            var reference = await cpu.ClassifyAsync(conversation, CancellationToken.None);
            output.WriteLine($"cpu {reference.UnsafeProbability:R} cuda {gpu.UnsafeProbability:R}");
            Assert.Equal(reference.UnsafeProbability!.Value, gpu.UnsafeProbability!.Value, 1e-3 * reference.UnsafeProbability.Value);
        }
    }
}
