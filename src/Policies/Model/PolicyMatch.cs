namespace Policies.Model;

/// <summary>A policy's selector, normalized: empty lists match anything.</summary>
/// <param name="Routes">Route names (<see cref="PolicyRoutes"/>).</param>
/// <param name="Models">Model ids and globs; a lone <c>*</c> is dropped, as it matches anything.</param>
/// <param name="Tenants">Tenant ids, compared exactly.</param>
public sealed record PolicyMatch(IReadOnlyList<string> Routes, IReadOnlyList<string> Models, IReadOnlyList<string> Tenants)
{
    /// <summary>Matches every request.</summary>
    public static PolicyMatch Any { get; } = new([], [], []);

    /// <summary>Whether the selector matches every request (a default policy).</summary>
    public bool IsCatchAll => Routes.Count == 0 && Models.Count == 0 && Tenants.Count == 0;

    /// <inheritdoc />
    public override string ToString() => IsCatchAll ? "every request" : string.Join(", ",
        new[] { ("tenants", Tenants), ("models", Models), ("routes", Routes) }
            .Where(p => p.Item2.Count > 0)
            .Select(p => $"{p.Item1} [{string.Join(", ", p.Item2)}]"));
}
