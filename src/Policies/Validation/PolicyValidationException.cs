namespace Policies.Validation;

/// <summary>The policy files are invalid; <see cref="Errors"/> lists every problem, and the message shows them all.</summary>
public sealed class PolicyValidationException : Exception
{
    /// <summary>Creates the exception from the problems found.</summary>
    /// <param name="errors">Every problem; at least one.</param>
    public PolicyValidationException(IReadOnlyList<PolicyError> errors)
        : base(Format(errors)) => Errors = errors;

    /// <summary>Creates the exception with a message only.</summary>
    public PolicyValidationException(string message)
        : base(message) => Errors = [];

    /// <summary>Creates the exception with a message and a cause.</summary>
    public PolicyValidationException(string message, Exception inner)
        : base(message, inner) => Errors = [];

    /// <summary>Creates the exception with no details.</summary>
    public PolicyValidationException()
        : this("The policy files are invalid.")
    {
    }

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<PolicyError> Errors { get; }

    /// <summary>Formats problems one per line under a count.</summary>
    public static string Format(IReadOnlyList<PolicyError> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return $"The policy files have {errors.Count} problem{(errors.Count == 1 ? "" : "s")}:"
            + string.Concat(errors.Select(e => "\n- " + e));
    }
}
