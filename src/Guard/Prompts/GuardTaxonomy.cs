using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Guard.Prompts;

/// <summary>An immutable, validated list of unsafe-content categories, with lookup by code.</summary>
/// <remarks>
/// Two taxonomies are equal when they were built for the same family (or both for none) and list equal categories
/// (code, name, description and heading) in the same order, so a taxonomy can key a cache of rendered prompts.
/// </remarks>
public sealed class GuardTaxonomy : IEquatable<GuardTaxonomy>
{
    private readonly FrozenDictionary<string, GuardCategory> _byCode;
    private readonly int _hash;

    // Two per family (user, agent).
    private static readonly int FormatDigestSlotCount = 2 * (Enum.GetValues<GuardFamily>().Max(f => (int)f) + 1);

    // Prompt format digests of this instance by family and role, filled on first use by
    // LlamaGuardPromptRenderer.GetFormatDigest; derived from the immutable categories, so equality ignores it.
    private string?[]? _formatDigests;

    private GuardTaxonomy(IReadOnlyList<GuardCategory> categories, GuardFamily? family)
    {
        Categories = categories;
        Family = family;
        _byCode = categories.ToFrozenDictionary(c => c.Code, StringComparer.OrdinalIgnoreCase);
        var hash = new HashCode();
        hash.Add(family);
        foreach (var category in categories)
        {
            hash.Add(category);
        }

        _hash = hash.ToHashCode();
    }

    /// <summary>Llama Guard 1's O1..O6, with the policy texts it was trained on.</summary>
    public static GuardTaxonomy LlamaGuard1 { get; } = CreateFor(DefaultTaxonomies.LlamaGuard1, GuardFamily.LlamaGuard1);

    /// <summary>Llama Guard 2's S1..S11.</summary>
    public static GuardTaxonomy LlamaGuard2 { get; } = CreateFor(DefaultTaxonomies.LlamaGuard2, GuardFamily.LlamaGuard2);

    /// <summary>Llama Guard 3's S1..S14.</summary>
    public static GuardTaxonomy LlamaGuard3 { get; } = CreateFor(DefaultTaxonomies.LlamaGuard3, GuardFamily.LlamaGuard3);

    /// <summary>The categories in prompt order.</summary>
    public IReadOnlyList<GuardCategory> Categories { get; }

    /// <summary>
    /// The family whose defaults the taxonomy was built on (<see cref="ForFamily"/>, <see cref="FromConfig"/>), so an
    /// engine of another family can refuse it; <see langword="null"/> for one built from categories alone
    /// (<see cref="Create"/>), which fits every family.
    /// </summary>
    public GuardFamily? Family { get; }

    /// <summary>The default taxonomy a family was trained with.</summary>
    /// <param name="family">The Llama Guard generation.</param>
    public static GuardTaxonomy ForFamily(GuardFamily family) => family switch
    {
        GuardFamily.LlamaGuard1 => LlamaGuard1,
        GuardFamily.LlamaGuard2 => LlamaGuard2,
        GuardFamily.LlamaGuard3 => LlamaGuard3,
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "Unknown Llama Guard family."),
    };

    /// <summary>Builds a taxonomy from categories, normalizing descriptions (LF line ends, no trailing blank lines).</summary>
    /// <param name="categories">The categories in prompt order.</param>
    /// <exception cref="ArgumentException">The categories are invalid; the message lists every problem.</exception>
    public static GuardTaxonomy Create(IEnumerable<GuardCategory> categories) => CreateFor(categories, family: null);

    private static GuardTaxonomy CreateFor(IEnumerable<GuardCategory> categories, GuardFamily? family)
    {
        ArgumentNullException.ThrowIfNull(categories);
        var list = new List<GuardCategory>();
        var errors = new List<string>();
        var index = 0;
        foreach (var category in categories)
        {
            var at = $"categories[{index++}]";
            if (category is null)
            {
                errors.Add($"{at} is null.");
                continue;
            }

            GuardTaxonomyValidator.CheckCode(at, category.Code, errors);
            GuardTaxonomyValidator.CheckName(at, category.Name, errors);
            list.Add(category with
            {
                Code = category.Code?.Trim() ?? string.Empty,
                Name = category.Name?.Trim() ?? string.Empty,
                Description = GuardTaxonomyValidator.NormalizeDescription(category.Description),
            });
        }

        GuardTaxonomyValidator.CheckSet(list, "categories", errors);
        return errors.Count == 0
            ? new GuardTaxonomy(list, family)
            : throw new ArgumentException(GuardTaxonomyValidator.Describe(errors), nameof(categories));
    }

    /// <summary>Builds the taxonomy a configuration asks for on top of a family's defaults.</summary>
    /// <param name="family">Whose defaults are extended, overridden or replaced.</param>
    /// <param name="config">The configuration; <see langword="null"/> gives the defaults.</param>
    /// <exception cref="ArgumentException">The configuration is invalid; the message lists every problem.</exception>
    public static GuardTaxonomy FromConfig(GuardFamily family, GuardTaxonomyConfig? config)
    {
        if (config is null)
        {
            return ForFamily(family);
        }

        var errors = new List<string>();
        var categories = GuardTaxonomyValidator.Apply(ForFamily(family), config, errors);
        return errors.Count == 0
            ? new GuardTaxonomy(categories, family)
            : throw new ArgumentException(GuardTaxonomyValidator.Describe(errors), nameof(config));
    }

    /// <summary>Slots for this instance's prompt format digests, two (user, agent) per family.</summary>
    internal string?[] FormatDigestSlots =>
        Volatile.Read(ref _formatDigests)
        ?? Interlocked.CompareExchange(ref _formatDigests, new string?[FormatDigestSlotCount], null)
        ?? _formatDigests!;

    /// <summary>Finds a category by code, ignoring case.</summary>
    /// <param name="code">The code, e.g. <c>S1</c>.</param>
    /// <param name="category">The category, when found.</param>
    public bool TryGetCategory(string code, [NotNullWhen(true)] out GuardCategory? category) =>
        _byCode.TryGetValue(code, out category);

    /// <summary>Whether <paramref name="other"/> has the same family and the same categories in the same order.</summary>
    /// <param name="other">The other taxonomy.</param>
    public bool Equals(GuardTaxonomy? other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }

        return other is not null
            && _hash == other._hash
            && Family == other.Family
            && Categories.SequenceEqual(other.Categories);
    }

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as GuardTaxonomy);

    /// <inheritdoc />
    public override int GetHashCode() => _hash;
}
