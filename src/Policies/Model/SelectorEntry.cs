using System.Collections.Frozen;

namespace Policies.Model;

/// <summary>
/// One way a policy can match: its route and tenant sets with one of its model patterns (a policy with several model
/// patterns has one entry per pattern, since an exact id and a glob rank differently).
/// </summary>
internal sealed class SelectorEntry
{
    public SelectorEntry(PolicyModel policy, string? model)
    {
        Policy = policy;
        Model = model;
        ModelIsGlob = model is not null && Glob.IsGlob(model);
        Routes = policy.Match.Routes.Count == 0 ? null : policy.Match.Routes.ToFrozenSet(StringComparer.OrdinalIgnoreCase);
        Tenants = policy.Match.Tenants.Count == 0 ? null : policy.Match.Tenants.ToFrozenSet(StringComparer.Ordinal);
        Rank = Specificity.Of(Tenants is not null, model is null ? 0 : ModelIsGlob ? 1 : 2, Routes is not null);
    }

    public PolicyModel Policy { get; }

    /// <summary>The model id or glob; <see langword="null"/>: any model.</summary>
    public string? Model { get; }

    public bool ModelIsGlob { get; }

    /// <summary>Route names; <see langword="null"/>: any route.</summary>
    public FrozenSet<string>? Routes { get; }

    /// <summary>Tenant ids; <see langword="null"/>: any tenant, including none.</summary>
    public FrozenSet<string>? Tenants { get; }

    /// <summary>See <see cref="Specificity"/>; higher wins.</summary>
    public int Rank { get; }

    public int Priority => Policy.Priority;

    /// <summary>Whether the entry matches; the tenant is checked by the index, not here.</summary>
    public bool MatchesRouteAndModel(string route, string model) =>
        (Routes is null || Routes.Contains(route))
        && (Model is null || (ModelIsGlob ? Glob.Matches(Model, model) : string.Equals(Model, model, StringComparison.OrdinalIgnoreCase)));

    /// <summary>Whether this entry wins over <paramref name="other"/> where both match.</summary>
    public bool Outranks(SelectorEntry other) => Rank != other.Rank ? Rank > other.Rank : Priority > other.Priority;

    /// <summary>Whether some request matches both entries.</summary>
    public bool Overlaps(SelectorEntry other) =>
        Intersect(Routes, other.Routes) && Intersect(Tenants, other.Tenants)
        && (Model is null || other.Model is null || Glob.Overlaps(Model, other.Model));

    /// <summary>Order of evaluation: rank, then priority, descending; names keep the order stable.</summary>
    public static int Compare(SelectorEntry x, SelectorEntry y) =>
        x.Rank != y.Rank ? y.Rank.CompareTo(x.Rank)
        : x.Priority != y.Priority ? y.Priority.CompareTo(x.Priority)
        : string.CompareOrdinal(x.Policy.Name, y.Policy.Name);

    private static bool Intersect(FrozenSet<string>? a, FrozenSet<string>? b) => a is null || b is null || a.Overlaps(b);
}
