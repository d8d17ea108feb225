namespace Guard.Onnx.Engine;

/// <summary>
/// The ONNX guard engine could not start: a model file is missing or invalid, the graph does not have the expected
/// signature, its dimensions disagree with the manifest, the tokenizer does not fit the model, or CUDA is unusable.
/// </summary>
/// <remarks>The message names the file (or setting) and the mismatch; it is a start-up error, never a per-call one.</remarks>
public sealed class OnnxModelLoadException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="OnnxModelLoadException"/> class.</summary>
    public OnnxModelLoadException()
        : base("The ONNX guard model could not be loaded.")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="OnnxModelLoadException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public OnnxModelLoadException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="OnnxModelLoadException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public OnnxModelLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="OnnxModelLoadException"/> class for one file.</summary>
    /// <param name="filePath">The file (or setting) at fault.</param>
    /// <param name="problem">What is wrong and, where it helps, how to fix it.</param>
    /// <param name="innerException">The cause, or <see langword="null"/>.</param>
    public OnnxModelLoadException(string filePath, string problem, Exception? innerException)
        : base($"{filePath}: {problem}", innerException)
    {
        FilePath = filePath;
        Problem = problem;
    }

    /// <summary>Gets the file (or setting) at fault, when the failure concerns one.</summary>
    public string? FilePath { get; }

    /// <summary>Gets what is wrong, without the file name.</summary>
    public string? Problem { get; }
}
