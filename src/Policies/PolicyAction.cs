namespace Policies;

/// <summary>What a policy does with content the guard found in one category, ordered from mildest to strictest.</summary>
public enum PolicyAction
{
    /// <summary>Let the content pass and record nothing beyond the verdict.</summary>
    Allow,

    /// <summary>Let the content pass and record the category (logs, metrics, response annotations).</summary>
    Flag,

    /// <summary>Stop the content: the prompt is not forwarded, the response or stream is not delivered.</summary>
    Block,
}
