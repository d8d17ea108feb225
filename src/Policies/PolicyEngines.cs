using System.Collections.Frozen;

namespace Policies;

/// <summary>The guard engines that exist, by name, and the one a policy gets when it names none.</summary>
public sealed class PolicyEngines
{
    /// <summary>Creates the engine set.</summary>
    /// <param name="engines">Engines by name (names compared ignoring case).</param>
    /// <param name="defaultEngine">
    /// The engine a role policy without <c>engine</c> uses; <see langword="null"/>: the only engine when there is
    /// exactly one, otherwise none (each checked role must then name its engine).
    /// </param>
    /// <exception cref="ArgumentException">A name is blank, or <paramref name="defaultEngine"/> is not one of the engines.</exception>
    public PolicyEngines(IReadOnlyDictionary<string, PolicyEngineInfo> engines, string? defaultEngine = null)
    {
        ArgumentNullException.ThrowIfNull(engines);
        foreach (var (name, info) in engines)
        {
            if (string.IsNullOrWhiteSpace(name) || info is null)
            {
                throw new ArgumentException("Every engine needs a non-blank name and its information.", nameof(engines));
            }
        }

        ByName = engines.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        if (defaultEngine is not null && !ByName.ContainsKey(defaultEngine))
        {
            throw new ArgumentException($"The default engine '{defaultEngine}' is not one of the engines.", nameof(defaultEngine));
        }

        DefaultEngine = defaultEngine is not null ? ByName.Keys.First(k => string.Equals(k, defaultEngine, StringComparison.OrdinalIgnoreCase))
            : ByName.Count == 1 ? ByName.Keys[0]
            : null;
    }

    /// <summary>No engines: only policies that check nothing are valid.</summary>
    public static PolicyEngines None { get; } = new(new Dictionary<string, PolicyEngineInfo>());

    /// <summary>The engines by name, ignoring case.</summary>
    public FrozenDictionary<string, PolicyEngineInfo> ByName { get; }

    /// <summary>The engine used when a role policy names none; <see langword="null"/> when there is no single choice.</summary>
    public string? DefaultEngine { get; }

    /// <summary>The engine names in a stable order, for messages.</summary>
    public string Describe() => ByName.Count == 0 ? "(none configured)" : string.Join(", ", ByName.Keys.Order(StringComparer.OrdinalIgnoreCase));
}
