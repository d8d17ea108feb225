namespace Guard.Onnx.Engine;

/// <summary>How generation stops.</summary>
internal enum StopRule
{
    /// <summary>A guard verdict: stop after <c>safe</c>; after <c>unsafe</c>, at the end of the category line; after any
    /// other first token, after <see cref="GreedyDecoder.NonVerdictTokens"/> tokens (the parser reports it).</summary>
    Verdict,

    /// <summary>Free completion: stop at a stop token or the token limit.</summary>
    Completion,

    /// <summary>Exactly the token limit, ignoring stop tokens (tests).</summary>
    Exact,
}
