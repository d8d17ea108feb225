using Guard.Onnx.Engine;
using Xunit.Abstractions;

namespace Guard.Tests.Onnx.Engine;

/// <summary>
/// The CUDA plugin execution provider path with a real plugin provider library, when <c>GUARD_TEST_CUDA_PROVIDER_LIBRARY</c> names it. On a machine
/// without a GPU and CUDA 13 it checks the error and the fallback; on a GPU machine it checks the engine runs on CUDA.
/// </summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class CudaPluginTests(TinyModelFixture fixture, ITestOutputHelper output)
{
    private const string Variable = "GUARD_TEST_CUDA_PROVIDER_LIBRARY";

    [FactWhenEnvironment(Variable)]
    public async Task PluginLibrary_RunsOnCuda_OrFailsClearlyAndFallsBack()
    {
        var library = Environment.GetEnvironmentVariable(Variable)!;
        OnnxGuardEngine engine;
        try
        {
            engine = fixture.CreateEngine(o =>
            {
                o.Provider = OnnxExecutionProvider.Cuda;
                o.CudaProviderLibraryPath = library;
            });
        }
        catch (OnnxModelLoadException ex)
        {
            // No usable CUDA here: the error names the setting, the library and what CUDA needs.
            output.WriteLine(ex.Message);
            Assert.Contains("Guard:Onnx:CudaProviderLibraryPath", ex.Message, StringComparison.Ordinal);
            Assert.Contains(library, ex.Message, StringComparison.Ordinal);
            Assert.Contains("CUDA 13", ex.Message, StringComparison.Ordinal);
            CudaChecks.AssertFallsBackToCpu(fixture, o =>
            {
                o.Provider = OnnxExecutionProvider.Cuda;
                o.CudaProviderLibraryPath = library;
            });
            return;
        }

        using (engine)
        {
            await CudaChecks.AssertAgreesWithCpuAsync(fixture, engine, output);
        }
    }
}

/// <summary>A fact that runs only when an environment variable is set.</summary>
public sealed class FactWhenEnvironmentAttribute : FactAttribute
{
    public FactWhenEnvironmentAttribute(string variable)
    {
        Variable = variable;
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(variable)))
        {
            Skip = $"set {variable} to run";
        }
    }

    public string Variable { get; }
}
