namespace Guard.Prompts;

/// <summary>Checks a taxonomy configuration and reports every problem at once, each naming the item and the fix.</summary>
public static class GuardTaxonomyValidator
{
    /// <summary>Validates a configuration against a family's defaults without building anything.</summary>
    /// <param name="family">Whose defaults the configuration changes.</param>
    /// <param name="config">The configuration.</param>
    /// <returns>The problems found; empty when the configuration is valid.</returns>
    public static IReadOnlyList<string> Validate(GuardFamily family, GuardTaxonomyConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = new List<string>();
        Apply(GuardTaxonomy.ForFamily(family), config, errors);
        return errors;
    }

    /// <summary>Applies a configuration to default categories, adding each problem to <paramref name="errors"/>.</summary>
    internal static List<GuardCategory> Apply(GuardTaxonomy defaults, GuardTaxonomyConfig config, List<string> errors)
    {
        var result = config.Replace ? [] : new List<GuardCategory>(defaults.Categories);
        var defined = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var c in config.Categories ?? [])
        {
            if (c?.Code is { } code)
            {
                defined.Add(code.Trim());
            }
        }

        var remove = config.Remove ?? [];
        if (config.Replace && remove.Count > 0)
        {
            errors.Add("Remove lists codes but Replace is true: a replacing taxonomy has no defaults to remove; drop Remove or set Replace to false.");
        }
        else
        {
            for (var i = 0; i < remove.Count; i++)
            {
                var code = remove[i]?.Trim();
                var index = code is null ? -1 : result.FindIndex(c => string.Equals(c.Code, code, StringComparison.OrdinalIgnoreCase));
                if (index < 0)
                {
                    errors.Add($"Remove[{i}] '{remove[i]}' is not a default category; use one of {string.Join(", ", defaults.Categories.Select(c => c.Code))}.");
                }
                else if (defined.Contains(code!))
                {
                    errors.Add($"Remove[{i}] '{code}' is also listed in Categories; either remove it or override it, not both.");
                }
                else
                {
                    result.RemoveAt(index);
                }
            }
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var categories = config.Categories ?? [];
        for (var i = 0; i < categories.Count; i++)
        {
            var at = $"Categories[{i}]";
            var entry = categories[i];
            if (entry is null)
            {
                errors.Add($"{at} is empty; give it a Code and a Name.");
                continue;
            }

            if (!CheckCode(at, entry.Code, errors))
            {
                continue;
            }

            var code = entry.Code!.Trim();
            if (!seen.Add(code))
            {
                errors.Add($"{at}.Code '{code}' appears more than once in Categories (codes ignore case); keep one entry per code.");
                continue;
            }

            var index = result.FindIndex(c => string.Equals(c.Code, code, StringComparison.OrdinalIgnoreCase));
            if (index >= 0)
            {
                // Override in place: unset fields keep the default, and a new name drops the trained heading quirk.
                var existing = result[index];
                if (entry.Name is not null && !CheckName(at, entry.Name, errors))
                {
                    continue;
                }

                result[index] = existing with
                {
                    Name = entry.Name?.Trim() ?? existing.Name,
                    Description = entry.Description is null ? existing.Description : NormalizeDescription(entry.Description),
                    Heading = entry.Name is null ? existing.Heading : null,
                };
            }
            else if (CheckName(at, entry.Name, errors))
            {
                result.Add(new GuardCategory(code, entry.Name!.Trim(), NormalizeDescription(entry.Description)));
            }
        }

        CheckSet(result, "the configured taxonomy", errors);
        return result;
    }

    /// <summary>A code must be non-empty and made of letters, digits, '-' and '_': the model lists codes comma-separated.</summary>
    internal static bool CheckCode(string at, string? code, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(code))
        {
            errors.Add($"{at}.Code is empty; give the category a short code such as 'S15'.");
            return false;
        }

        foreach (var c in code.Trim())
        {
            if (!char.IsLetterOrDigit(c) && c is not '-' and not '_')
            {
                errors.Add($"{at}.Code '{code}' contains {Describe(c)}; the model answers with a comma-separated list of codes, so use letters, digits, '-' and '_' only.");
                return false;
            }
        }

        return true;
    }

    /// <summary>A name must be non-empty and on one line: it is the heading line of its category.</summary>
    internal static bool CheckName(string at, string? name, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            errors.Add($"{at}.Name is empty; give the category a name such as 'Fraud'.");
            return false;
        }

        if (name.Any(char.IsControl))
        {
            errors.Add($"{at}.Name '{name.ReplaceLineEndings(" ")}' contains a line break or control character; a name is one heading line, put details in Description.");
            return false;
        }

        return true;
    }

    /// <summary>Codes must be unique (ignoring case) and a taxonomy must have at least one category.</summary>
    internal static void CheckSet(List<GuardCategory> categories, string what, List<string> errors)
    {
        if (categories.Count == 0)
        {
            errors.Add($"{what} has no categories; keep or add at least one.");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var category in categories)
        {
            if (category.Code.Length > 0 && !seen.Add(category.Code))
            {
                errors.Add($"{what} has the code '{category.Code}' more than once (codes ignore case); give each category its own code.");
            }
        }
    }

    /// <summary>LF line ends and no leading or trailing blank lines, so the category block keeps its layout.</summary>
    internal static string NormalizeDescription(string? description) =>
        string.IsNullOrWhiteSpace(description) ? string.Empty : description.ReplaceLineEndings("\n").Trim('\n').TrimEnd();

    /// <summary>One message for an exception: every error on its own line.</summary>
    internal static string Describe(List<string> errors) =>
        "The guard taxonomy is invalid:" + string.Concat(errors.Select(e => "\n- " + e));

    private static string Describe(char c) => c switch
    {
        ',' => "a comma",
        '\n' or '\r' => "a line break",
        _ when char.IsWhiteSpace(c) => "whitespace",
        _ => $"'{c}'",
    };
}
