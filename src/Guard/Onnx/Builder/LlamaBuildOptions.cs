using Guard.Onnx.Models;
using Guard.Prompts;

namespace Guard.Onnx.Builder;

/// <summary>Options of <see cref="LlamaOnnxBuilder.Build"/>.</summary>
public sealed class LlamaBuildOptions
{
    /// <summary>The weights, activations, KV cache and logits type.</summary>
    public OnnxDType DType { get; set; } = OnnxDType.Float32;

    /// <summary>Whether <c>logits</c> holds only the last position (<c>[batch, 1, vocab]</c>), which saves the output
    /// projection of every other position. Use left padding with it: the last position must be a real token.</summary>
    public bool LastTokenLogitsOnly { get; set; }

    /// <summary>
    /// Whether the graph takes a shared prefix cache apart from the past: inputs <c>prefix_key_values.{i}.key/.value</c>
    /// <c>[1, kv_heads, prefix, head_dim]</c>, attended by every row of the batch (MatMul broadcasting, no copy), and
    /// <c>present.*</c> holding only the past and the new tokens. The mask covers prefix, past and new tokens. Lets the
    /// engine batch calls on one prefix without tiling it and keeps the prefix out of every call's cache (docs/adr/006).
    /// </summary>
    public bool SharedPrefix { get; set; }

    /// <summary>
    /// Whether attention, rotary embedding and RMSNorm are emitted as ONNX Runtime's contrib operators
    /// (<c>GroupQueryAttention</c>, <c>RotaryEmbedding</c>, <c>SkipSimplifiedLayerNormalization</c> of
    /// <c>com.microsoft</c>, and <c>SimplifiedLayerNormalization</c>) instead of standard opset-17 operators. The
    /// signature is the same; the graph then needs ONNX Runtime, and its rows' valid positions must be contiguous from
    /// the start, so the engine runs it unbatched (docs/adr/013-fused-graph.md). Not combinable with
    /// <see cref="SharedPrefix"/>.
    /// </summary>
    public bool FusedOperators { get; set; }

    /// <summary>Whether the weights go to <c>model.onnx.data</c>; <c>null</c>: when they exceed 1 GiB (a single protobuf
    /// file cannot exceed 2 GiB).</summary>
    public bool? ExternalData { get; set; }

    /// <summary>The Llama Guard family (prompt format, categories), written to the manifest.</summary>
    public required GuardFamily Family { get; set; }

    /// <summary>The model id reported on verdicts, written to the manifest.</summary>
    public required string ModelId { get; set; }

    /// <summary>A tokenizer file, or a directory to copy <c>tokenizer.json</c>, <c>tokenizer.model</c> and
    /// <c>tokenizer_config.json</c> from; <c>null</c>: the checkpoint directory of safetensors weights, if it has them.</summary>
    public string? TokenizerSource { get; set; }
}
