using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;

namespace Gateway.Caching;

/// <summary>The engine and prompt-format parts of a verdict key.</summary>
internal static class EngineKeys
{
    private static readonly ConcurrentDictionary<(GuardFamily, GuardTaxonomy, GuardRole), string> Formats = new();

    /// <summary>What the engine runs.</summary>
    public static string Identity(IGuardEngine engine) => $"{engine.Name}|{engine.Model}|{engine.Family}";

    /// <summary>A digest of the prompt's fixed parts: the family's template and the taxonomy's categories, for a role.</summary>
    public static string Format(IGuardEngine engine, GuardTaxonomy? taxonomy, GuardRole role) =>
        Formats.GetOrAdd((engine.Family, taxonomy ?? engine.Taxonomy, role), static key =>
        {
            var text = new StringBuilder().Append(key.Item1).Append('\0').Append(key.Item3).Append('\0');
            foreach (var category in key.Item2.Categories)
            {
                text.Append(category.Code).Append('\0').Append(category.HeadingText).Append('\0').Append(category.Description).Append('\0');
            }
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
        });
}
