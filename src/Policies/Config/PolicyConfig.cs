namespace Policies.Config;

/// <summary>One policy as written in a policy file: where it applies and what it does with prompts and responses.</summary>
public sealed record PolicyConfig
{
    /// <summary>The unique name, reported on every decision.</summary>
    public string? Name { get; init; }

    /// <summary>Free text for operators.</summary>
    public string? Description { get; init; }

    /// <summary>Which requests the policy applies to; <see langword="null"/> or empty: every request (the default policy).</summary>
    public PolicyMatchConfig? Match { get; init; }

    /// <summary>Breaks ties between overlapping selectors of equal specificity; higher wins. Default 0.</summary>
    public int? Priority { get; init; }

    /// <summary>Whether no other policy may take precedence over this one for any request it matches.</summary>
    public bool? Locked { get; init; }

    /// <summary>What to do with prompts; <see langword="null"/> takes every default (checked, fail closed).</summary>
    public RolePolicyConfig? Prompt { get; init; }

    /// <summary>What to do with responses; <see langword="null"/> takes every default (checked, windowed streaming).</summary>
    public RolePolicyConfig? Response { get; init; }
}
