namespace Guard.Prompts;

/// <summary>One category in a taxonomy configuration: a new category, or an override of a default one.</summary>
public sealed record GuardCategoryConfig
{
    /// <summary>The code the model answers with, e.g. <c>S15</c>; letters, digits, <c>-</c> and <c>_</c> only.</summary>
    public string? Code { get; init; }

    /// <summary>The display name; required for a new category, <see langword="null"/> keeps a default category's name.</summary>
    public string? Name { get; init; }

    /// <summary>The policy text; <see langword="null"/> keeps a default category's text (or none for a new one).</summary>
    public string? Description { get; init; }
}
