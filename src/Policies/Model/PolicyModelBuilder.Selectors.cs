using Policies.Validation;

namespace Policies.Model;

/// <summary>Selector checks: a catch-all exists, overlapping selectors of equal rank differ in priority, locked policies are never outranked.</summary>
internal sealed partial class PolicyModelBuilder
{
    private void CheckSelectors(List<SelectorEntry> entries)
    {
        if (_errors.Count == 0 && !entries.Any(e => e.Policy.Match.IsCatchAll))
        {
            Add(null, "", null,
                "No policy matches every request, so requests outside every selector would have no policy.",
                "Add a default policy without 'match' (it applies where no more specific policy does).");
        }

        var reported = new HashSet<(string, string)>();
        foreach (var (a, b) in CandidatePairs(entries))
        {
            if (ReferenceEquals(a.Policy, b.Policy) || !a.Overlaps(b))
            {
                continue;
            }

            var pair = string.CompareOrdinal(a.Policy.Name, b.Policy.Name) < 0 ? (a.Policy.Name, b.Policy.Name) : (b.Policy.Name, a.Policy.Name);
            if (a.Rank == b.Rank && a.Priority == b.Priority)
            {
                if (reported.Add(pair))
                {
                    Tie(a, b);
                }

                continue;
            }

            var (winner, loser) = a.Outranks(b) ? (a, b) : (b, a);
            if (loser.Policy.Locked && reported.Add(pair))
            {
                OverridesLocked(winner, loser);
            }
        }
    }

    /// <summary>
    /// The pairs that can overlap, in file order: entries without tenants with each other, and per tenant its entries
    /// with each other and with those without tenants. Entries of different tenants never meet, so thousands of
    /// tenant policies do not cost a comparison of every pair.
    /// </summary>
    private static IEnumerable<(SelectorEntry A, SelectorEntry B)> CandidatePairs(List<SelectorEntry> entries)
    {
        var general = new List<int>();
        var byTenant = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            if (entries[i].Tenants is not { } tenants)
            {
                general.Add(i);
                continue;
            }

            foreach (var tenant in tenants)
            {
                if (!byTenant.TryGetValue(tenant, out var list))
                {
                    byTenant[tenant] = list = [];
                }

                list.Add(i);
            }
        }

        for (var x = 0; x < general.Count; x++)
        {
            for (var y = x + 1; y < general.Count; y++)
            {
                yield return (entries[general[x]], entries[general[y]]);
            }
        }

        // An entry naming several tenants meets the same partners once per tenant; each pair is checked once.
        var visited = new HashSet<(int, int)>();
        foreach (var list in byTenant.Values)
        {
            for (var x = 0; x < list.Count; x++)
            {
                for (var y = x + 1; y < list.Count; y++)
                {
                    if (visited.Add((list[x], list[y])))
                    {
                        yield return (entries[list[x]], entries[list[y]]);
                    }
                }

                foreach (var g in general)
                {
                    var pair = g < list[x] ? (g, list[x]) : (list[x], g);
                    if (visited.Add(pair))
                    {
                        yield return (entries[pair.Item1], entries[pair.Item2]);
                    }
                }
            }
        }
    }

    private void Tie(SelectorEntry a, SelectorEntry b)
    {
        var (first, second) = a.Policy.File == b.Policy.File && string.CompareOrdinal(a.Policy.Path, b.Policy.Path) > 0 ? (b, a) : (a, b);
        Add(second.Policy.File, $"{second.Policy.Path}.match", second.Policy.Match.ToString(),
            $"The selector overlaps {Describe(first.Policy)} ({first.Policy.Match}) at the same specificity ({Specificity.Describe(a.Rank)}) "
            + $"and the same priority ({a.Priority}), so which applies to a request matching both is undefined.",
            "Set a different 'priority' on one of them (higher wins), or narrow one selector so they no longer overlap.");
    }

    private void OverridesLocked(SelectorEntry winner, SelectorEntry locked)
    {
        Add(winner.Policy.File, $"{winner.Policy.Path}.match", winner.Policy.Match.ToString(),
            $"The policy would take precedence over the locked policy {Describe(locked.Policy)} ({locked.Policy.Match}) for requests "
            + $"matching both ({Specificity.Describe(winner.Rank)}, priority {winner.Priority} over {Specificity.Describe(locked.Rank)}, priority {locked.Priority}).",
            $"Narrow this selector so it no longer overlaps '{locked.Policy.Name}', or have its owner change or unlock '{locked.Policy.Name}'.");
    }
}
