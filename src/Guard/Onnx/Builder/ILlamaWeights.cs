using System.Diagnostics.CodeAnalysis;
using Guard.Onnx.Models;

namespace Guard.Onnx.Builder;

/// <summary>The weights of a Llama decoder, by Hugging Face tensor name (see <see cref="LlamaTensorNames"/>).</summary>
public interface ILlamaWeights
{
    /// <summary>The model's dimensions.</summary>
    LlamaConfig Config { get; }

    /// <summary>Where the weights come from, for the manifest: <c>random:seed=N</c>, <c>safetensors:&lt;dir name&gt;</c>.</summary>
    string Source => "custom";

    /// <summary>Whether the weights are random (a model for tests and benchmarks, whose verdicts mean nothing).</summary>
    bool IsRandom => false;

    /// <summary>Returns one tensor as float32, row-major in its Hugging Face shape (linear layers <c>[out, in]</c>).</summary>
    /// <param name="name">The tensor name.</param>
    /// <returns>A new array the caller may keep or modify.</returns>
    [SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Justification = "The weights contract is Get(name); VB consumers are not a concern.")]
    float[] Get(string name);
}
