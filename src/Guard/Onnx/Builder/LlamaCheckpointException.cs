namespace Guard.Onnx.Builder;

/// <summary>A checkpoint (config.json, safetensors files, tokenizer) is missing, unreadable or does not match its config.</summary>
public sealed class LlamaCheckpointException : Exception
{
    /// <summary>Creates the exception.</summary>
    public LlamaCheckpointException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    public LlamaCheckpointException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public LlamaCheckpointException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a file; the message starts with the file's path.</summary>
    /// <param name="filePath">The file at fault.</param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="innerException">The cause.</param>
    public LlamaCheckpointException(string filePath, string problem, Exception? innerException)
        : base($"{filePath}: {problem}", innerException)
    {
        FilePath = filePath;
    }

    /// <summary>The file at fault, when there is one.</summary>
    public string? FilePath { get; }
}
