using Microsoft.ML.OnnxRuntime;

namespace Guard.Onnx.Engine;

/// <summary>
/// One ONNX Runtime session of the decoder graph, shared by every call: runs a forward pass over a batch of new tokens
/// and a past KV cache, and returns the logits and the grown cache.
/// </summary>
/// <remarks>
/// <see cref="InferenceSession"/> runs are thread-safe, so one session serves all concurrent calls; each pass has its own
/// I/O binding and tensors. Logits are bound to host memory (they are read on the CPU), present tensors to
/// <see cref="KvMemory"/> (the device on CUDA) so that they can be fed back without a copy.
/// </remarks>
internal sealed class DecoderSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtMemoryInfo _hostMemory;
    private readonly KvCache? _emptyPrefix;

    public DecoderSession(InferenceSession session, DecoderSignature signature, OrtMemoryInfo kvMemory, string providerName)
    {
        _session = session;
        Signature = signature;
        KvMemory = kvMemory;
        ProviderName = providerName;
        _hostMemory = OrtMemoryInfo.DefaultInstance;
        _emptyPrefix = signature.SharedPrefix ? KvCache.Empty(signature, 1) : null;
    }

    /// <summary>The graph's signature.</summary>
    public DecoderSignature Signature { get; }

    /// <summary>Where present tensors are allocated.</summary>
    public OrtMemoryInfo KvMemory { get; }

    /// <summary>Whether present tensors live in host memory (the CPU provider), where the engine may copy them itself.</summary>
    public bool KvOnHost => KvMemory.Name == OrtMemoryInfo.DefaultInstance.Name;

    /// <summary>The execution provider running the graph, e.g. <c>CPUExecutionProvider</c>.</summary>
    public string ProviderName { get; }

    /// <summary>Runs one forward pass.</summary>
    /// <param name="input">The new tokens, positions and mask.</param>
    /// <param name="past">The cache the tokens continue (an empty cache for a fresh sequence); not disposed here.</param>
    /// <param name="runOptions">Per-call run options (their terminate flag cancels the pass).</param>
    /// <param name="prefix">
    /// With a <see cref="DecoderSignature.SharedPrefix"/> graph: the batch-1 prefix cache every row attends to before
    /// <paramref name="past"/> (null: none); the input's past length counts both. Otherwise it must be null.
    /// </param>
    /// <returns>The logits and the present cache (with a shared prefix, without it); the caller disposes it.</returns>
    public DecoderOutput Forward(DecoderInput input, KvCache past, RunOptions runOptions, KvCache? prefix = null)
    {
        var signature = Signature;
        if (prefix is not null && (!signature.SharedPrefix || prefix.Batch != 1))
        {
            throw new ArgumentException("A separate prefix cache needs a shared-prefix graph and batch 1.", nameof(prefix));
        }

        prefix ??= signature.SharedPrefix ? _emptyPrefix : null;
        var prefixLength = prefix?.Length ?? 0;
        if (past.Batch != input.Batch || prefixLength + past.Length != input.PastLength)
        {
            throw new ArgumentException($"The past cache is [{past.Batch}, {prefixLength} + {past.Length}] but the input expects [{input.Batch}, {input.PastLength}].", nameof(past));
        }

        if (signature.ContiguousRows && (input.Batch > 1 || Array.IndexOf(input.AttentionMask, 0L) >= 0))
        {
            throw new ArgumentException("A fused graph (GroupQueryAttention) takes one row whose mask is all ones: no padding, no masked slots.", nameof(input));
        }

        using var binding = _session.CreateIoBinding();
        using var ids = OrtValue.CreateTensorValueFromMemory(input.InputIds, [input.Batch, input.Sequence]);
        using var positions = OrtValue.CreateTensorValueFromMemory(input.PositionIds, [input.Batch, input.Sequence]);
        using var mask = OrtValue.CreateTensorValueFromMemory(input.AttentionMask, [input.Batch, input.PastLength + input.Sequence]);
        binding.BindInput(DecoderSignature.InputIds, ids);
        binding.BindInput(DecoderSignature.AttentionMask, mask);
        binding.BindInput(DecoderSignature.PositionIds, positions);
        for (var i = 0; i < signature.PastNames.Length; i++)
        {
            binding.BindInput(signature.PastNames[i], past.Values[i]);
        }

        if (prefix is not null)
        {
            for (var i = 0; i < signature.PrefixNames.Length; i++)
            {
                binding.BindInput(signature.PrefixNames[i], prefix.Values[i]);
            }
        }

        binding.BindOutputToDevice(DecoderSignature.Logits, _hostMemory);
        foreach (var name in signature.PresentNames)
        {
            binding.BindOutputToDevice(name, KvMemory);
        }

        var outputs = _session.RunWithBoundResults(runOptions, binding);
        var values = new OrtValue[outputs.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = outputs[i];
        }

        // The OrtValues now belong to the DecoderOutput (or are disposed below); the list itself holds nothing else.
        try
        {
            var logitsShape = values[0].GetTensorTypeAndShape().Shape;
            var expectedPast = input.PastLength + input.Sequence - prefixLength;
            var config = signature.Config;
            if (logitsShape.Length != 3 || logitsShape[0] != input.Batch || (logitsShape[1] != input.Sequence && logitsShape[1] != 1) || logitsShape[2] != config.VocabSize)
            {
                throw new InvalidDataException(
                    $"logits has shape [{string.Join(", ", logitsShape)}]; expected [{input.Batch}, {input.Sequence} or 1, {config.VocabSize}] (config.vocab_size)");
            }

            var presentShape = values[1].GetTensorTypeAndShape().Shape;
            if (presentShape.Length != 4 || presentShape[0] != input.Batch || presentShape[1] != config.NumKvHeads || presentShape[2] != expectedPast || presentShape[3] != config.HeadDim)
            {
                throw new InvalidDataException(
                    $"{signature.PresentNames[0]} has shape [{string.Join(", ", presentShape)}]; expected [{input.Batch}, {config.NumKvHeads} (config.num_key_value_heads), {expectedPast}, {config.HeadDim} (hidden_size / num_attention_heads)]");
            }

            var present = new KvCache(values[1..], input.Batch, expectedPast);
            return new DecoderOutput(values[0], signature.ElementType, present, input.Batch, (int)logitsShape[1], config.VocabSize);
        }
        catch
        {
            foreach (var v in values)
            {
                v.Dispose();
            }

            throw;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _emptyPrefix?.Dispose();
        _session.Dispose();
    }
}
