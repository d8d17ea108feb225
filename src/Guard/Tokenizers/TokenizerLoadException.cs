namespace Guard.Tokenizers;

/// <summary>
/// A tokenizer could not be loaded: a file is missing or corrupt, a field is missing or wrong, or the family is unknown.
/// </summary>
public sealed class TokenizerLoadException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="TokenizerLoadException"/> class.</summary>
    public TokenizerLoadException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="TokenizerLoadException"/> class with a message.</summary>
    /// <param name="message">The message.</param>
    public TokenizerLoadException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="TokenizerLoadException"/> class with a message and a cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public TokenizerLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="TokenizerLoadException"/> class for a file and field.</summary>
    /// <param name="filePath">The file that could not be used.</param>
    /// <param name="field">The field at fault (a JSON path such as <c>model.vocab</c>), or <see langword="null"/>.</param>
    /// <param name="problem">What is wrong and, where it helps, how to fix it.</param>
    /// <param name="innerException">The cause, or <see langword="null"/>.</param>
    public TokenizerLoadException(string filePath, string? field, string problem, Exception? innerException = null)
        : base(field is null ? $"{filePath}: {problem}" : $"{filePath}: {field}: {problem}", innerException)
    {
        FilePath = filePath;
        Field = field;
    }

    /// <summary>Gets the file that could not be used, when the failure concerns one file.</summary>
    public string? FilePath { get; }

    /// <summary>Gets the field at fault (for example <c>model.merges[12]</c>), when the failure concerns one field.</summary>
    public string? Field { get; }
}
