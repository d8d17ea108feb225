using Policies.Config;

namespace Policies.Model;

/// <summary>The built-in policy used when no policy file is configured.</summary>
/// <remarks>
/// It monitors and never blocks: every category is flagged, and a missing or unparseable verdict fails open. What
/// runs without configuration includes the embedded demo guard, whose random weights mostly answer unparseable text;
/// blocking on that would refuse nearly every request. A configured policy defaults to blocking and failing closed.
/// </remarks>
public static class PolicyDefaults
{
    /// <summary>The built-in policy's name, reported on its decisions.</summary>
    public const string BuiltInName = "builtin-monitor";

    /// <summary>
    /// The built-in policy as configuration: prompts and responses checked with the default engine (checked only
    /// when there is one), every category flagged, fail open, default streaming.
    /// </summary>
    /// <param name="engines">The guard engines that exist.</param>
    public static PolicyConfig BuiltInConfig(PolicyEngines engines)
    {
        ArgumentNullException.ThrowIfNull(engines);
        var role = new RolePolicyConfig
        {
            Check = engines.DefaultEngine is not null,
            DefaultAction = PolicyAction.Flag,
            UnknownCategoryAction = PolicyAction.Flag,
            FailMode = FailMode.Open,
        };
        return new PolicyConfig
        {
            Name = BuiltInName,
            Description = "No policy file configured: flag every category, never block, fail open.",
            Prompt = role,
            Response = role,
        };
    }

    /// <summary>The built-in policy as a snapshot.</summary>
    /// <param name="engines">The guard engines that exist.</param>
    /// <param name="loadedAt">The time to record.</param>
    public static PolicySetModel BuiltIn(PolicyEngines engines, DateTimeOffset loadedAt)
    {
        var builder = new PolicyModelBuilder(engines);
        return builder.Build([new PolicyDocumentConfig { Policies = [BuiltInConfig(engines)] }], loadedAt, isBuiltInDefault: true)
            ?? throw new InvalidOperationException("The built-in policy is invalid: " + string.Join("; ", builder.Errors));
    }
}
