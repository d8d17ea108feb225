using System.Globalization;
using System.Text;
using Policies.Model;

namespace Policies.Tests;

/// <summary>Writes every field of a policy set as text, so two sets can be compared field by field.</summary>
internal static class ModelText
{
    public static string Describe(PolicySetModel set)
    {
        var text = new StringBuilder();
        foreach (var p in set.Policies)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"policy {p.Name} [{p.Description}] match {p.Match} priority {p.Priority} locked {p.Locked} at {p.Path}");
            foreach (var role in new[] { p.Prompt, p.Response })
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {role.Role} check {role.Check} engine {role.Engine} probability {role.EngineReportsProbability} custom {role.CustomTaxonomy} unknown {role.UnknownCategoryAction} fail {role.FailMode} timeout {role.Timeout} streaming {role.Streaming}");
                foreach (var c in role.Taxonomy?.Categories ?? [])
                {
                    text.AppendLine(CultureInfo.InvariantCulture, $"    {c.Code} {c.Name} [{c.Description.ReplaceLineEndings("|")}] -> {role.Categories[c.Code]}");
                }
            }
        }

        return text.ToString();
    }
}
