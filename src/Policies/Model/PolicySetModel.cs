using System.Collections.Frozen;
using Policies.Config;
using Policies.Validation;

namespace Policies.Model;

/// <summary>
/// The validated policies of every configured file, as one immutable snapshot: reload builds a new one and swaps it
/// whole, so a request sees one consistent set.
/// </summary>
public sealed class PolicySetModel
{
    private readonly PolicySelector _selector;

    internal PolicySetModel(IReadOnlyList<PolicyModel> policies, PolicySelector selector, IReadOnlyList<string> files, DateTimeOffset loadedAt, bool isBuiltInDefault)
    {
        Policies = policies;
        ByName = policies.ToFrozenDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        _selector = selector;
        Files = files;
        LoadedAt = loadedAt;
        IsBuiltInDefault = isBuiltInDefault;
    }

    /// <summary>Every policy, in file order.</summary>
    public IReadOnlyList<PolicyModel> Policies { get; }

    /// <summary>The policies by name, ignoring case.</summary>
    public FrozenDictionary<string, PolicyModel> ByName { get; }

    /// <summary>The files the policies came from; empty for the built-in default.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>When this snapshot was built.</summary>
    public DateTimeOffset LoadedAt { get; }

    /// <summary>Whether this is the built-in monitoring policy (no file configured).</summary>
    public bool IsBuiltInDefault { get; }

    /// <summary>Validates documents and builds the snapshot.</summary>
    /// <param name="documents">The documents, in configuration order (their policies are merged).</param>
    /// <param name="engines">The guard engines that exist.</param>
    /// <param name="loadedAt">The time to record.</param>
    /// <exception cref="PolicyValidationException">The documents are invalid; every problem is listed.</exception>
    public static PolicySetModel Build(IReadOnlyList<PolicyDocumentConfig> documents, PolicyEngines engines, DateTimeOffset loadedAt) =>
        TryBuild(documents, engines, loadedAt, out var model, out var errors) ? model! : throw new PolicyValidationException(errors);

    /// <summary>Validates documents and builds the snapshot, or reports every problem.</summary>
    /// <param name="documents">The documents, in configuration order (their policies are merged).</param>
    /// <param name="engines">The guard engines that exist.</param>
    /// <param name="loadedAt">The time to record.</param>
    /// <param name="model">The snapshot, when valid.</param>
    /// <param name="errors">Every problem; empty when valid.</param>
    public static bool TryBuild(
        IReadOnlyList<PolicyDocumentConfig> documents,
        PolicyEngines engines,
        DateTimeOffset loadedAt,
        out PolicySetModel? model,
        out IReadOnlyList<PolicyError> errors)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(engines);
        var builder = new PolicyModelBuilder(engines);
        model = builder.Build(documents, loadedAt);
        errors = builder.Errors;
        return model is not null;
    }

    /// <summary>
    /// The policy for a request: the most specific matching selector wins (docs/policies.md#precedence). Every valid
    /// set has a catch-all, so there is always one.
    /// </summary>
    /// <param name="route">The API surface (<see cref="PolicyRoutes"/>).</param>
    /// <param name="model">The requested model id.</param>
    /// <param name="tenant">The tenant resolved from the API key; <see langword="null"/> when none.</param>
    public PolicyModel Select(string route, string model, string? tenant)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(model);
        return _selector.Select(route, model, tenant)
            ?? throw new InvalidOperationException("No policy matched; validation guarantees a catch-all policy.");
    }
}
