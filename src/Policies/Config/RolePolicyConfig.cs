using Guard.Prompts;

namespace Policies.Config;

/// <summary>What a policy does with one role (prompts or responses), as written; unset fields take their defaults.</summary>
public sealed record RolePolicyConfig
{
    /// <summary>Whether the role is checked at all. Default true.</summary>
    public bool? Check { get; init; }

    /// <summary>The guard engine's name; default: the gateway's default engine.</summary>
    public string? Engine { get; init; }

    /// <summary>Custom categories on top of the engine family's defaults; <see langword="null"/>: the engine's own taxonomy.</summary>
    public GuardTaxonomyConfig? Taxonomy { get; init; }

    /// <summary>The action for taxonomy categories not listed in <see cref="Categories"/>. Default block.</summary>
    public PolicyAction? DefaultAction { get; init; }

    /// <summary>The action for codes the taxonomy does not know, and for an unsafe verdict without codes. Default block.</summary>
    public PolicyAction? UnknownCategoryAction { get; init; }

    /// <summary>The unsafe-probability threshold for categories that set none; <see langword="null"/>: no threshold.</summary>
    public double? Threshold { get; init; }

    /// <summary>The action below a threshold for categories that set none. Default flag.</summary>
    public PolicyAction? BelowThreshold { get; init; }

    /// <summary>Per-category rules by code.</summary>
    public IReadOnlyDictionary<string, CategoryRuleConfig> Categories { get; init; } = new Dictionary<string, CategoryRuleConfig>();

    /// <summary>What to do without a usable verdict. Default closed.</summary>
    public FailMode? FailMode { get; init; }

    /// <summary>The longest a whole guard check may take (every retry included). Default 10 s.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>How streamed responses are held; responses only.</summary>
    public StreamingConfig? Streaming { get; init; }
}
