using System.Collections.Frozen;

namespace Policies.Model;

/// <summary>
/// Finds the policy for a request with precomputed, ordered entries: the requesting tenant's own entries first
/// (a tenant selector always outranks one without), then the tenant-independent ones. No allocation per call.
/// </summary>
internal sealed class PolicySelector
{
    private readonly FrozenDictionary<string, SelectorEntry[]> _byTenant;
    private readonly SelectorEntry[] _general;

    public PolicySelector(IEnumerable<SelectorEntry> entries)
    {
        var all = entries.ToList();
        all.Sort(SelectorEntry.Compare);
        _general = [.. all.Where(e => e.Tenants is null)];
        _byTenant = all
            .Where(e => e.Tenants is not null)
            .SelectMany(e => e.Tenants!, (e, tenant) => (Tenant: tenant, Entry: e))
            .GroupBy(p => p.Tenant, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.Select(p => p.Entry).ToArray(), StringComparer.Ordinal);
    }

    public PolicyModel? Select(string route, string model, string? tenant)
    {
        if (tenant is not null && _byTenant.TryGetValue(tenant, out var own))
        {
            foreach (var entry in own)
            {
                if (entry.MatchesRouteAndModel(route, model))
                {
                    return entry.Policy;
                }
            }
        }

        foreach (var entry in _general)
        {
            if (entry.MatchesRouteAndModel(route, model))
            {
                return entry.Policy;
            }
        }

        return null;
    }
}
