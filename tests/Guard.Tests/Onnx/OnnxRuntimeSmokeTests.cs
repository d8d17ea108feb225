using Guard.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Guard.Tests.Onnx;

public sealed class OnnxRuntimeSmokeTests
{
    [Fact]
    public void Environment_ReportsVersionAndCpuProvider()
    {
        var env = OrtEnv.Instance();
        Assert.NotNull(env);

        var version = OnnxRuntimeInfo.GetVersion();
        Assert.StartsWith("1.31", version, StringComparison.Ordinal);
        Assert.Equal(env.GetVersionString(), version);

        Assert.Contains("CPUExecutionProvider", OnnxRuntimeInfo.GetAvailableProviders());
    }

    [Fact]
    public void SessionOptions_CanBeCreatedAndDisposed()
    {
        var options = new SessionOptions();
        options.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
        Assert.Equal(GraphOptimizationLevel.ORT_ENABLE_ALL, options.GraphOptimizationLevel);
        Assert.False(options.IsInvalid);

        options.Dispose();
        Assert.True(options.IsClosed);
    }
}
