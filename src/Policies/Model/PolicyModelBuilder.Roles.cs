using System.Collections.Frozen;
using Guard.Prompts;
using Policies.Config;
using Policies.Validation;

namespace Policies.Model;

/// <summary>Role policies: engine, taxonomy, category rules, thresholds, fail mode and timeout.</summary>
internal sealed partial class PolicyModelBuilder
{
    /// <summary>The default guard timeout for a whole check, retries included.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMinutes(5);

    private RolePolicyModel BuildRole(RolePolicyConfig? config, PolicyRole role, string policyName, string? file, string path)
    {
        var check = config?.Check ?? true;
        var failMode = config?.FailMode ?? FailMode.Closed;
        var timeout = config?.Timeout ?? DefaultTimeout;
        if (config?.Timeout is { } t && (t <= TimeSpan.Zero || t > MaxTimeout))
        {
            Add(file, $"{path}.timeout", Durations.Format(t), "The guard timeout must be above zero and at most 5 minutes.",
                "Set a timeout such as 2s; the check's fail mode applies when it passes.");
        }

        if (role == PolicyRole.Prompt && config?.Streaming is not null)
        {
            Add(file, $"{path}.streaming", null, "Streaming settings apply to responses only; prompts are never streamed.",
                "Move 'streaming' under 'response', or remove it.");
        }

        if (!check)
        {
            return new RolePolicyModel(policyName, role, false, null, false, null, false,
                FrozenDictionary<string, CategoryRule>.Empty, PolicyAction.Block, failMode, timeout, null);
        }

        var (engineName, engine) = ResolveEngine(config?.Engine, file, path);
        var taxonomy = engine?.EffectiveTaxonomy;
        var custom = false;
        if (config?.Taxonomy is { } taxonomyConfig && engine is not null)
        {
            var problems = GuardTaxonomyValidator.Validate(engine.Family, taxonomyConfig);
            foreach (var problem in problems)
            {
                var cut = problem.IndexOf("; ", StringComparison.Ordinal);
                Add(file, $"{path}.taxonomy", null, cut > 0 ? problem[..cut] + "." : problem,
                    cut > 0 ? Capitalize(problem[(cut + 2)..]) : "Correct the taxonomy (docs/guard.md#taxonomies).");
            }

            if (problems.Count == 0)
            {
                taxonomy = GuardTaxonomy.FromConfig(engine.Family, taxonomyConfig);
                custom = true;
            }
        }

        var probability = engine?.ReportsUnsafeProbability ?? false;
        var defaults = new CategoryRule(
            config?.DefaultAction ?? PolicyAction.Block,
            CheckThreshold(config?.Threshold, probability, engineName, file, $"{path}.threshold"),
            config?.BelowThreshold ?? PolicyAction.Flag);
        if (config?.BelowThreshold is { } below && below > defaults.Action)
        {
            Add(file, $"{path}.belowThreshold", Name(below),
                $"The action below the threshold is stricter than the default action ({Name(defaults.Action)}).",
                "Use a below-threshold action no stricter than defaultAction (usually flag or allow).");
        }

        var categories = BuildCategories(config?.Categories, taxonomy, defaults, probability, engineName, file, path);
        return new RolePolicyModel(policyName, role, true, engineName, probability, taxonomy, custom, categories,
            config?.UnknownCategoryAction ?? PolicyAction.Block, failMode, timeout,
            role == PolicyRole.Response ? BuildStreaming(config?.Streaming, timeout, file, $"{path}.streaming") : null);
    }

    private (string? Name, PolicyEngineInfo? Info) ResolveEngine(string? configured, string? file, string path)
    {
        var name = configured?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            if (engines.DefaultEngine is { } fallback)
            {
                return (fallback, engines.ByName[fallback]);
            }

            Add(file, $"{path}.engine", null,
                engines.ByName.Count == 0
                    ? "The role is checked but no guard engine is configured."
                    : $"The role names no engine and there is no default among the configured engines ({engines.Describe()}).",
                engines.ByName.Count == 0
                    ? "Configure a guard engine (Guard:Engine), or set 'check: false' for this role."
                    : "Name the engine with 'engine:'.");
            return (null, null);
        }

        if (!engines.ByName.TryGetValue(name, out var info))
        {
            Add(file, $"{path}.engine", PolicyError.Quote(configured), "Unknown guard engine.",
                $"Use one of the configured engines: {engines.Describe()}.");
            return (null, null);
        }

        return (engines.ByName.Keys.First(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)), info);
    }

    private FrozenDictionary<string, CategoryRule> BuildCategories(
        IReadOnlyDictionary<string, CategoryRuleConfig>? configured,
        GuardTaxonomy? taxonomy,
        CategoryRule defaults,
        bool probability,
        string? engineName,
        string? file,
        string path)
    {
        var rules = new Dictionary<string, CategoryRule>(StringComparer.OrdinalIgnoreCase);
        foreach (var (code, rule) in configured ?? new Dictionary<string, CategoryRuleConfig>())
        {
            var at = $"{path}.categories.{code}";
            GuardCategory? category = null;
            if (taxonomy is not null && !taxonomy.TryGetCategory(code.Trim(), out category))
            {
                Add(file, at, PolicyError.Quote(code), $"Unknown category code for engine '{engineName}'.",
                    $"Use one of {string.Join(", ", taxonomy.Categories.Select(c => c.Code))}, or add the category under 'taxonomy.categories'.");
                continue;
            }

            var action = rule.Action ?? defaults.Action;
            var threshold = CheckThreshold(rule.Threshold, probability, engineName, file, $"{at}.threshold") ?? defaults.Threshold;
            var below = rule.BelowThreshold ?? defaults.BelowThreshold;
            if (rule.BelowThreshold is not null && threshold is null)
            {
                Add(file, $"{at}.belowThreshold", Name(rule.BelowThreshold.Value), "A below-threshold action without a threshold never applies.",
                    "Add a threshold to the category (or to the role), or remove belowThreshold.");
            }
            else if (rule.BelowThreshold is not null && below > action)
            {
                Add(file, $"{at}.belowThreshold", Name(below), $"The action below the threshold is stricter than the action ({Name(action)}).",
                    "Use a below-threshold action no stricter than the action (usually flag or allow).");
            }

            if (category is not null && !rules.TryAdd(category.Code, new CategoryRule(action, threshold, below)))
            {
                Add(file, at, PolicyError.Quote(code), $"The category {category.Code} is listed twice (codes ignore case).", "Keep one entry per category.");
            }
        }

        foreach (var category in taxonomy?.Categories ?? [])
        {
            rules.TryAdd(category.Code, defaults);
        }

        return rules.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    private double? CheckThreshold(double? threshold, bool probability, string? engineName, string? file, string path)
    {
        if (threshold is not { } value)
        {
            return null;
        }

        if (!double.IsFinite(value) || value < 0 || value > 1)
        {
            Add(file, path, PolicyError.Describe(value), "A threshold is an unsafe probability between 0 and 1.",
                "Write a number from 0 to 1, e.g. 0.8.");
            return null;
        }

        if (!probability && engineName is not null)
        {
            Add(file, path, PolicyError.Describe(value),
                $"The engine '{engineName}' reports no unsafe probability, so the threshold could never be compared.",
                "Remove the threshold, or use an engine that reports probabilities (the local ONNX engine, an OpenAI-compatible server with logprobs).");
            return null;
        }

        return value;
    }

    private static string Name(PolicyAction action) => action.ToString().ToLowerInvariant();

    private static string Capitalize(string text) => text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..];
}
