using System.Collections.Frozen;
using Guard.Prompts;

namespace Policies.Model;

/// <summary>What one policy does with one role (prompts or responses): validated, with a rule for every category.</summary>
public sealed class RolePolicyModel
{
    internal RolePolicyModel(
        string policyName,
        PolicyRole role,
        bool check,
        string? engine,
        bool engineReportsProbability,
        GuardTaxonomy? taxonomy,
        bool customTaxonomy,
        FrozenDictionary<string, CategoryRule> categories,
        PolicyAction unknownCategoryAction,
        FailMode failMode,
        TimeSpan timeout,
        StreamingSettings? streaming)
    {
        PolicyName = policyName;
        Role = role;
        Check = check;
        Engine = engine;
        EngineReportsProbability = engineReportsProbability;
        Taxonomy = taxonomy;
        CustomTaxonomy = customTaxonomy;
        Categories = categories;
        UnknownCategoryAction = unknownCategoryAction;
        FailMode = failMode;
        Timeout = timeout;
        Streaming = streaming;
    }

    /// <summary>The policy this role belongs to.</summary>
    public string PolicyName { get; }

    /// <summary>Prompts or responses.</summary>
    public PolicyRole Role { get; }

    /// <summary>Whether this role is checked; when false nothing else applies and no guard is called.</summary>
    public bool Check { get; }

    /// <summary>The guard engine's name; <see langword="null"/> when not checked.</summary>
    public string? Engine { get; }

    /// <summary>Whether the engine's verdicts carry an unsafe probability (thresholds need one).</summary>
    public bool EngineReportsProbability { get; }

    /// <summary>The categories the guard is asked about; <see langword="null"/> when not checked.</summary>
    public GuardTaxonomy? Taxonomy { get; }

    /// <summary>Whether <see cref="Taxonomy"/> is the policy's own (so the prompt must be rendered with it), not the engine's.</summary>
    public bool CustomTaxonomy { get; }

    /// <summary>A rule for every category of <see cref="Taxonomy"/>, by code ignoring case.</summary>
    public FrozenDictionary<string, CategoryRule> Categories { get; }

    /// <summary>The action for codes the taxonomy does not know and for an unsafe verdict that names no code.</summary>
    public PolicyAction UnknownCategoryAction { get; }

    /// <summary>What happens without a usable verdict.</summary>
    public FailMode FailMode { get; }

    /// <summary>The longest the whole guard check may take; beyond it the fail mode applies.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>How streamed responses are held; <see langword="null"/> for prompts and for unchecked responses.</summary>
    public StreamingSettings? Streaming { get; }
}
