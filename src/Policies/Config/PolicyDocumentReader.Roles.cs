using System.Text.Json.Nodes;
using Guard.Prompts;

namespace Policies.Config;

/// <summary>The role, category, taxonomy and streaming parts of a policy.</summary>
internal sealed partial class PolicyDocumentReader
{
    private static readonly string[] RoleFields =
    [
        "check", "engine", "taxonomy", "defaultAction", "unknownCategoryAction", "threshold", "belowThreshold",
        "categories", "failMode", "timeout", "streaming",
    ];

    private static readonly string[] RuleFields = ["action", "threshold", "belowThreshold"];
    private static readonly string[] TaxonomyFields = ["replace", "remove", "categories"];
    private static readonly string[] TaxonomyCategoryFields = ["code", "name", "description"];
    private static readonly string[] StreamingFields = ["mode", "window", "unit", "closeAtSentenceEnd", "minWindow", "holdBack", "maxHeldBytes", "maxHoldTime"];

    private RolePolicyConfig? ReadRole(JsonNode? node, string path)
    {
        if (read.Object(node, path, "A role policy", RoleFields) is not { } f)
        {
            return null;
        }

        return new RolePolicyConfig
        {
            Check = read.Bool(f["check"], $"{path}.check"),
            Engine = read.String(f["engine"], $"{path}.engine", "An engine name"),
            Taxonomy = f["taxonomy"] is null ? null : ReadTaxonomy(f["taxonomy"], $"{path}.taxonomy"),
            DefaultAction = read.Enum<PolicyAction>(f["defaultAction"], $"{path}.defaultAction", "action"),
            UnknownCategoryAction = read.Enum<PolicyAction>(f["unknownCategoryAction"], $"{path}.unknownCategoryAction", "action"),
            Threshold = read.Number(f["threshold"], $"{path}.threshold"),
            BelowThreshold = read.Enum<PolicyAction>(f["belowThreshold"], $"{path}.belowThreshold", "action"),
            Categories = ReadCategories(f["categories"], $"{path}.categories"),
            FailMode = read.Enum<FailMode>(f["failMode"], $"{path}.failMode", "fail mode"),
            Timeout = read.Duration(f["timeout"], $"{path}.timeout"),
            Streaming = f["streaming"] is null ? null : ReadStreaming(f["streaming"], $"{path}.streaming"),
        };
    }

    private Dictionary<string, CategoryRuleConfig> ReadCategories(JsonNode? node, string path)
    {
        var rules = new Dictionary<string, CategoryRuleConfig>(StringComparer.Ordinal);
        if (node is null)
        {
            return rules;
        }

        if (node is not JsonObject obj)
        {
            read.Error(path, node, "'categories' must map category codes to actions.", "Write one 'CODE: action' line per category, e.g. 'S1: block' or 'S1: { action: block, threshold: 0.8 }'.");
            return rules;
        }

        foreach (var (code, value) in obj)
        {
            var at = $"{path}.{code}";
            if (value is JsonObject)
            {
                if (read.Object(value, at, "A category rule", RuleFields) is { } f)
                {
                    rules[code] = new CategoryRuleConfig
                    {
                        Action = read.Enum<PolicyAction>(f["action"], $"{at}.action", "action"),
                        Threshold = read.Number(f["threshold"], $"{at}.threshold"),
                        BelowThreshold = read.Enum<PolicyAction>(f["belowThreshold"], $"{at}.belowThreshold", "action"),
                    };
                }
            }
            else if (value is null)
            {
                read.Error(at, null, "The category has no action.", "Write block, flag or allow after the code, or remove the line.");
            }
            else if (read.Enum<PolicyAction>(value, at, "action") is { } action)
            {
                rules[code] = new CategoryRuleConfig { Action = action };
            }
        }

        return rules;
    }

    private GuardTaxonomyConfig? ReadTaxonomy(JsonNode? node, string path)
    {
        if (read.Object(node, path, "A taxonomy", TaxonomyFields) is not { } f)
        {
            return null;
        }

        var categories = new List<GuardCategoryConfig>();
        if (f["categories"] is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                var at = $"{path}.categories[{i}]";
                if (read.Object(array[i], at, "A taxonomy category", TaxonomyCategoryFields) is { } c)
                {
                    categories.Add(new GuardCategoryConfig
                    {
                        Code = read.String(c["code"], $"{at}.code", "A category code"),
                        Name = read.String(c["name"], $"{at}.name", "A category name"),
                        Description = read.String(c["description"], $"{at}.description", "A category description"),
                    });
                }
            }
        }
        else if (f["categories"] is not null)
        {
            read.Error($"{path}.categories", f["categories"], "Taxonomy categories must be a list.", "Write each category as a list item with code, name and description.");
        }

        return new GuardTaxonomyConfig
        {
            Replace = read.Bool(f["replace"], $"{path}.replace") ?? false,
            Remove = read.StringList(f["remove"], $"{path}.remove", "A category code"),
            Categories = categories,
        };
    }

    private StreamingConfig? ReadStreaming(JsonNode? node, string path)
    {
        if (read.Object(node, path, "The streaming settings", StreamingFields) is not { } f)
        {
            return null;
        }

        return new StreamingConfig
        {
            Mode = read.Enum<StreamingMode>(f["mode"], $"{path}.mode", "streaming mode"),
            Window = read.Int(f["window"], $"{path}.window"),
            Unit = read.Enum<WindowUnit>(f["unit"], $"{path}.unit", "window unit"),
            CloseAtSentenceEnd = read.Bool(f["closeAtSentenceEnd"], $"{path}.closeAtSentenceEnd"),
            MinWindow = read.Int(f["minWindow"], $"{path}.minWindow"),
            HoldBack = read.Int(f["holdBack"], $"{path}.holdBack"),
            MaxHeldBytes = read.Integer(f["maxHeldBytes"], $"{path}.maxHeldBytes"),
            MaxHoldTime = read.Duration(f["maxHoldTime"], $"{path}.maxHoldTime"),
        };
    }
}
