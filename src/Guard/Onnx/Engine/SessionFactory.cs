using Guard.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Guard.Onnx.Engine;

/// <summary>
/// Creates the inference session on the configured execution provider: CPU, or CUDA through the plugin provider
/// library (<c>RegisterExecutionProviderLibrary</c> + <c>GetEpDevices</c>) when a path is given, else the classic
/// provider of an official GPU build; CUDA failures either stop start-up or fall back to the CPU, as configured.
/// </summary>
internal static class SessionFactory
{
    public const string CpuProviderName = "CPUExecutionProvider";
    public const string CudaProviderName = "CUDAExecutionProvider";
    private const string CudaRegistrationName = "CUDA";
    private const string CudaRequirements =
        "the CUDA provider needs an NVIDIA GPU and driver plus CUDA 13 (libcudart.so.13, libcublas.so.13, libcublasLt.so.13, libcurand.so.10) and cuDNN 9 on the library path";

    private static readonly Lock RegistrationLock = new();
    private static string? _registeredCudaLibrary;

    /// <summary>A created session and where its KV cache lives.</summary>
    public sealed record Result(InferenceSession Session, OrtMemoryInfo KvMemory, string ProviderName);

    /// <summary>Creates the session.</summary>
    /// <param name="graphPath">The graph file.</param>
    /// <param name="options">The engine options.</param>
    /// <param name="warnings">Receives the CUDA fallback notice.</param>
    /// <exception cref="OnnxModelLoadException">The graph cannot be loaded, or CUDA is unusable and the fallback is <see cref="CudaFallback.Fail"/>.</exception>
    public static Result Create(string graphPath, OnnxGuardEngineOptions options, List<string> warnings)
    {
        if (options.Provider == OnnxExecutionProvider.Cuda)
        {
            try
            {
                return CreateCuda(graphPath, options);
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or CudaUnavailableException)
            {
                var problem = (ex is CudaUnavailableException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}").TrimEnd('.');
                var setting = options.CudaProviderLibraryPath is { Length: > 0 } path
                    ? $"Guard:Onnx:CudaProviderLibraryPath ({path})"
                    : "Guard:Onnx:Provider";
                var message = $"CUDA was configured but cannot be used: {problem}. Hint: {CudaRequirements}"
                    + (options.CudaProviderLibraryPath is not null ? string.Empty
                        : OnnxRuntimeInfo.GetAvailableProviders().Contains(CudaProviderName)
                            ? "; this is the GPU build of ONNX Runtime, so one of those libraries or the GPU itself is missing"
                            : "; without Guard:Onnx:CudaProviderLibraryPath the classic CUDA provider is used, which the CPU build of ONNX Runtime lacks: build with -p:OnnxRuntimeGpu=true (docs/onnx.md) or set the path to a CUDA plugin provider library");
                if (options.CudaFallback == CudaFallback.Fail)
                {
                    throw new OnnxModelLoadException(setting, message + ". Set Guard:Onnx:CudaFallback to UseCpu to run on the CPU instead.", ex);
                }

                warnings.Add($"{setting}: {message}. Falling back to the CPU (Guard:Onnx:CudaFallback = UseCpu).");
            }
        }

        var cpu = BaseOptions(options);
        try
        {
            return new Result(Open(graphPath, cpu), OrtMemoryInfo.DefaultInstance, CpuProviderName);
        }
        finally
        {
            cpu.Dispose();
        }
    }

    private static Result CreateCuda(string graphPath, OnnxGuardEngineOptions options)
    {
        using var sessionOptions = BaseOptions(options);
        OrtMemoryInfo kvMemory;
        if (options.CudaProviderLibraryPath is { Length: > 0 } libraryPath)
        {
            var fullPath = Path.GetFullPath(libraryPath);
            if (!File.Exists(fullPath))
            {
                throw new CudaUnavailableException($"the CUDA provider library {fullPath} does not exist");
            }

            var env = OrtEnv.Instance();
            Register(env, fullPath);
            var devices = env.GetEpDevices().Where(d => d.EpName == CudaProviderName).ToList();
            if (devices.Count == 0)
            {
                throw new CudaUnavailableException($"the CUDA provider library {fullPath} loaded but reports no CUDA device");
            }

            if (options.DeviceId >= devices.Count)
            {
                throw new CudaUnavailableException($"Guard:Onnx:DeviceId is {options.DeviceId} but the CUDA provider reports {devices.Count} device(s)");
            }

            var device = devices[options.DeviceId];
            sessionOptions.AppendExecutionProvider(env, [device], new Dictionary<string, string>());
            kvMemory = device.GetMemoryInfo(OrtDeviceMemoryType.DEFAULT);
        }
        else
        {
            sessionOptions.AppendExecutionProvider_CUDA(options.DeviceId);
            kvMemory = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, options.DeviceId, OrtMemType.Default);
        }

        // A failure here is ONNX Runtime initialising CUDA for the graph (cuDNN, device memory): the caller's fallback
        // rule applies. A graph that is itself broken fails again, with its own message, on the CPU path.
        return new Result(new InferenceSession(graphPath, sessionOptions), kvMemory, CudaProviderName);
    }

    private static void Register(OrtEnv env, string fullPath)
    {
        lock (RegistrationLock)
        {
            if (_registeredCudaLibrary == fullPath)
            {
                return;
            }

            if (_registeredCudaLibrary is not null)
            {
                throw new CudaUnavailableException($"another CUDA provider library ({_registeredCudaLibrary}) is already registered in this process");
            }

            env.RegisterExecutionProviderLibrary(CudaRegistrationName, fullPath);
            _registeredCudaLibrary = fullPath;
        }
    }

    private static SessionOptions BaseOptions(OnnxGuardEngineOptions options)
    {
        var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            // ONNX Runtime's own warnings (e.g. nodes placed on the CPU) would go to stderr, bypassing the host's logging.
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        if (options.IntraOpThreads > 0)
        {
            sessionOptions.IntraOpNumThreads = options.IntraOpThreads;
        }

        return sessionOptions;
    }

    private static InferenceSession Open(string graphPath, SessionOptions sessionOptions)
    {
        try
        {
            return new InferenceSession(graphPath, sessionOptions);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new OnnxModelLoadException(graphPath, $"ONNX Runtime cannot load the graph: {ex.Message}", ex);
        }
    }

    /// <summary>CUDA cannot be used for a reason found before ONNX Runtime reports one.</summary>
    private sealed class CudaUnavailableException(string message) : Exception(message);
}
