using Guard.Prompts;

namespace Guard.Onnx.Engine;

/// <summary>Settings of the local ONNX Runtime guard engine (<c>Guard:Onnx</c>).</summary>
public sealed class OnnxGuardEngineOptions
{
    /// <summary>The model directory: <c>manifest.json</c>, the graph it names, and <c>tokenizer.json</c> or <c>tokenizer.model</c>.</summary>
    public string ModelDirectory { get; set; } = string.Empty;

    /// <summary>Where the model runs; CPU by default.</summary>
    public OnnxExecutionProvider Provider { get; set; } = OnnxExecutionProvider.Cpu;

    /// <summary>What happens when <see cref="Provider"/> is CUDA and CUDA cannot be used.</summary>
    public CudaFallback CudaFallback { get; set; } = CudaFallback.Fail;

    /// <summary>The CUDA device ordinal.</summary>
    public int DeviceId { get; set; }

    /// <summary>
    /// Full path of the CUDA plugin execution provider library (<c>libonnxruntime_providers_cuda.so</c> of the npm ONNX
    /// Runtime build); when unset, the classic CUDA provider of an official GPU build is used.
    /// </summary>
    public string? CudaProviderLibraryPath { get; set; }

    /// <summary>Most guard calls running inference at once; further calls wait (and honour their cancellation).</summary>
    public int MaxConcurrency { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// Most guard calls run as one padded forward pass (dynamic batching, docs/adr/006); 1 runs every call on its own.
    /// Calls that share a cached prefix (the same role of the engine's own taxonomy) are batched together; the batch
    /// shares that prefix. <see cref="MaxConcurrency"/> then bounds concurrent batches.
    /// </summary>
    public int MaxBatchSize { get; set; } = 1;

    /// <summary>
    /// How long a batch waits for more calls after its first one, up to <see cref="MaxBatchSize"/>; zero takes only the
    /// calls already waiting. Calls also gather while every batch slot is busy.
    /// </summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Most calls waiting for a batch; further callers wait for room (and honour their cancellation).</summary>
    public int MaxQueuedCalls { get; set; } = 1024;

    /// <summary>Threads of ONNX Runtime's intra-op pool per session; 0 lets ONNX Runtime choose (one per physical core).</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>Whether the fixed prompt prefix is computed once per role and reused by every call (docs/adr/006).</summary>
    public bool PrefixReuse { get; set; } = true;

    /// <summary>
    /// Most prefix caches kept for conversations that bring their own taxonomy (a policy's), one per taxonomy and role,
    /// computed on first use and evicted least recently used first; each takes as much memory as one of the engine's own
    /// two prefixes. 0 runs such prompts whole. Only with <see cref="PrefixReuse"/>.
    /// </summary>
    public int CustomPrefixCacheSize { get; set; } = 2;

    /// <summary>Most tokens generated per verdict, the verdict word included (enough for <c>unsafe</c> and a code list).</summary>
    public int MaxCategoryTokens { get; set; } = 12;

    /// <summary>
    /// Most stream sessions' KV caches kept between the windows of their streams (docs/adr/012-stream-sessions.md); the
    /// least recently used is evicted to make room, and its stream's next window starts from the cached prefix. Each
    /// takes the memory of its prompt so far: about one prefix cache plus the response. 0 turns stream sessions off.
    /// </summary>
    public int MaxStreamSessions { get; set; } = 8;

    /// <summary>How long a stream session's KV cache is kept without a window before it is dropped.</summary>
    public TimeSpan StreamSessionIdleTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Custom taxonomy; null keeps the family's default categories.</summary>
    public GuardTaxonomyConfig? Taxonomy { get; set; }

    /// <summary>Context window in tokens (prompt and answer); null uses the model's <c>max_position_embeddings</c>.</summary>
    public int? ContextTokens { get; set; }

    /// <summary>Collects every configuration problem (model files are checked when the engine starts); empty when valid.</summary>
    /// <param name="family">The model's family, to validate <see cref="Taxonomy"/>; null skips that check.</param>
    /// <returns>The problems, each naming the setting, the bad value and the fix.</returns>
    public IReadOnlyList<string> Validate(GuardFamily? family = null)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(ModelDirectory))
        {
            errors.Add("Guard:Onnx:ModelDirectory must name the model directory (manifest.json, model.onnx, tokenizer.json).");
        }

        if (!Enum.IsDefined(Provider))
        {
            errors.Add($"Guard:Onnx:Provider must be Cpu or Cuda, got {Provider}.");
        }

        if (!Enum.IsDefined(CudaFallback))
        {
            errors.Add($"Guard:Onnx:CudaFallback must be Fail or UseCpu, got {CudaFallback}.");
        }

        if (DeviceId < 0)
        {
            errors.Add($"Guard:Onnx:DeviceId must be 0 or more, got {DeviceId}.");
        }

        if (MaxConcurrency < 1)
        {
            errors.Add($"Guard:Onnx:MaxConcurrency must be at least 1, got {MaxConcurrency}.");
        }

        if (MaxBatchSize is < 1 or > 256)
        {
            errors.Add($"Guard:Onnx:MaxBatchSize must be between 1 (no batching) and 256, got {MaxBatchSize}.");
        }

        if (BatchWindow < TimeSpan.Zero || BatchWindow > TimeSpan.FromSeconds(1))
        {
            errors.Add($"Guard:Onnx:BatchWindow must be between 00:00:00 and 00:00:01, got {BatchWindow}.");
        }

        if (MaxQueuedCalls < 1)
        {
            errors.Add($"Guard:Onnx:MaxQueuedCalls must be at least 1, got {MaxQueuedCalls}.");
        }

        if (IntraOpThreads < 0)
        {
            errors.Add($"Guard:Onnx:IntraOpThreads must be 0 (ONNX Runtime's choice) or more, got {IntraOpThreads}.");
        }

        if (CustomPrefixCacheSize is < 0 or > 64)
        {
            errors.Add($"Guard:Onnx:CustomPrefixCacheSize must be between 0 (run custom-taxonomy prompts whole) and 64, got {CustomPrefixCacheSize}.");
        }

        if (MaxStreamSessions is < 0 or > 4096)
        {
            errors.Add($"Guard:Onnx:MaxStreamSessions must be between 0 (no stream sessions) and 4096, got {MaxStreamSessions}.");
        }

        if (StreamSessionIdleTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Guard:Onnx:StreamSessionIdleTimeout must be positive, got {StreamSessionIdleTimeout}.");
        }

        if (MaxCategoryTokens is < 1 or > 256)
        {
            errors.Add($"Guard:Onnx:MaxCategoryTokens must be between 1 and 256, got {MaxCategoryTokens}.");
        }

        if (ContextTokens is < 64)
        {
            errors.Add($"Guard:Onnx:ContextTokens must be at least 64 when set, got {ContextTokens}.");
        }

        if (Taxonomy is not null && family is { } f)
        {
            errors.AddRange(GuardTaxonomyValidator.Validate(f, Taxonomy));
        }

        return errors;
    }
}
