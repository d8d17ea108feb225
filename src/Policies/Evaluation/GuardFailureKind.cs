namespace Policies.Evaluation;

/// <summary>Why there is no usable verdict; each applies the role's fail mode.</summary>
public enum GuardFailureKind
{
    /// <summary>The guard answered, but its answer is neither <c>safe</c> nor <c>unsafe</c> (never treated as safe).</summary>
    Unparseable,

    /// <summary>The engine failed (unreachable, an error status, a malformed reply, an inference error).</summary>
    EngineError,

    /// <summary>The check did not finish within the role's timeout.</summary>
    Timeout,

    /// <summary>A stream held more bytes than the streaming hold bound allows.</summary>
    HoldBytesExceeded,

    /// <summary>A stream held text longer than the streaming hold bound allows.</summary>
    HoldTimeExceeded,
}
