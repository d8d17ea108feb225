namespace Gateway.Sse;

/// <summary>Thrown when an event stream breaks a limit of <see cref="SseReader"/>, such as its maximum event size.</summary>
public sealed class SseFormatException : FormatException
{
    /// <summary>Creates the exception with a default message.</summary>
    public SseFormatException()
        : base("The event stream is malformed.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What is wrong with the stream.</param>
    public SseFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    /// <param name="message">What is wrong with the stream.</param>
    /// <param name="innerException">The cause.</param>
    public SseFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
