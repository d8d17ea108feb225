namespace Policies.Model;

/// <summary>
/// The precedence rule: the most specific selector wins. Tenant outweighs model, model outweighs route; an exact
/// model id outweighs a glob. Equal ranks that overlap must differ in priority (validation refuses a tie).
/// </summary>
/// <remarks>
/// The ranks, highest first: tenant+exact model+route (11), tenant+exact model (10), tenant+glob+route (9),
/// tenant+glob (8), tenant+route (7), tenant (6), exact model+route (5), exact model (4), glob+route (3), glob (2),
/// route (1), catch-all (0).
/// </remarks>
internal static class Specificity
{
    /// <summary>The rank of a selector.</summary>
    /// <param name="tenant">Whether it names tenants.</param>
    /// <param name="model">0 any model, 1 a glob, 2 an exact id.</param>
    /// <param name="route">Whether it names routes.</param>
    public static int Of(bool tenant, int model, bool route) => ((tenant ? 1 : 0) * 6) + (model * 2) + (route ? 1 : 0);

    /// <summary>The rank in words, for messages.</summary>
    public static string Describe(int rank)
    {
        var tenant = rank >= 6;
        var model = (rank % 6) / 2;
        var route = rank % 2 == 1;
        var parts = new List<string>();
        if (tenant)
        {
            parts.Add("tenant");
        }

        if (model > 0)
        {
            parts.Add(model == 2 ? "exact model" : "model glob");
        }

        if (route)
        {
            parts.Add("route");
        }

        return parts.Count == 0 ? "catch-all" : string.Join(" + ", parts);
    }
}
