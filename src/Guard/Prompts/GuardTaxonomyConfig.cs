namespace Guard.Prompts;

/// <summary>
/// How an operator changes a family's default categories: replace them all, or remove, override and add some.
/// </summary>
/// <remarks>
/// Without <see cref="Replace"/>, <see cref="Remove"/> is applied to the defaults first, then each entry of
/// <see cref="Categories"/> overrides the default with the same code in place or is appended in order.
/// </remarks>
public sealed record GuardTaxonomyConfig
{
    /// <summary>Whether <see cref="Categories"/> replaces the defaults entirely instead of extending them.</summary>
    public bool Replace { get; init; }

    /// <summary>Categories to add, or to override (matched by code, case-insensitively).</summary>
    public IReadOnlyList<GuardCategoryConfig> Categories { get; init; } = [];

    /// <summary>Codes of default categories to leave out; only without <see cref="Replace"/>.</summary>
    public IReadOnlyList<string> Remove { get; init; } = [];
}
