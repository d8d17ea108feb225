namespace Guard.Onnx.Engine;

/// <summary>
/// One guard call waiting for, or running in, a batched forward pass: its prompt, where its own tokens start (after
/// the shared prefix), its stop rule, and the completion its caller awaits.
/// </summary>
internal sealed class BatchCall
{
    /// <summary>Creates the call.</summary>
    /// <param name="ids">The whole prompt.</param>
    /// <param name="prefix">The cached prefix the prompt starts with (its ids checked), or null to run the prompt whole.</param>
    /// <param name="prefixMismatch">Whether a prefix was offered but the prompt did not start with its ids.</param>
    /// <param name="maxTokens">Most tokens to generate.</param>
    /// <param name="rule">When to stop.</param>
    /// <param name="scoreAfter">Generated tokens that precede the verdict position.</param>
    /// <param name="cancellationToken">The caller's token.</param>
    public BatchCall(int[] ids, PrefixEntry? prefix, bool prefixMismatch, int maxTokens, StopRule rule, int[] scoreAfter, CancellationToken cancellationToken)
    {
        Ids = ids;
        Prefix = prefix;
        PrefixMismatch = prefixMismatch;
        MaxTokens = maxTokens;
        Rule = rule;
        ScoreAfter = scoreAfter;
        CancellationToken = cancellationToken;
    }

    /// <summary>The whole prompt.</summary>
    public int[] Ids { get; }

    /// <summary>The shared prefix; calls are batched only with calls of the same prefix.</summary>
    public PrefixEntry? Prefix { get; }

    /// <summary>Whether a prefix was offered but not used.</summary>
    public bool PrefixMismatch { get; }

    /// <summary>The prompt ids after the prefix: what this call runs.</summary>
    public ReadOnlySpan<int> Tail => Ids.AsSpan(Prefix?.Ids.Length ?? 0);

    /// <summary>Most tokens to generate.</summary>
    public int MaxTokens { get; }

    /// <summary>When to stop.</summary>
    public StopRule Rule { get; }

    /// <summary>Generated tokens that precede the verdict position.</summary>
    public int[] ScoreAfter { get; }

    /// <summary>The caller's token: a cancelled call is dropped from its batch, never the batch.</summary>
    public CancellationToken CancellationToken { get; }

    /// <summary>What the caller awaits; continuations run asynchronously so that a batch never runs its callers' code.</summary>
    public TaskCompletionSource<Generation> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
