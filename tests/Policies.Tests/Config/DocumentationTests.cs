using System.Text.RegularExpressions;
using Policies.Config;
using Policies.Validation;

namespace Policies.Tests.Config;

public partial class DocumentationTests
{
    private static readonly string Reference = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "docs", "policies.md"));

    public static TheoryData<int, string, string> Examples()
    {
        var data = new TheoryData<int, string, string>();
        var index = 0;
        foreach (Match m in CodeBlock().Matches(Reference))
        {
            if (m.Groups["text"].Value.Contains("\"policies\"", StringComparison.Ordinal) || m.Groups["text"].Value.Contains("policies:", StringComparison.Ordinal))
            {
                data.Add(index++, m.Groups["lang"].Value, m.Groups["text"].Value);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void ReferenceExamples_AreValid(int index, string language, string text)
    {
        var result = TestPolicies.Load(text, language == "json" ? PolicyFileFormat.Json : PolicyFileFormat.Yaml);

        Assert.True(result.Errors.Count == 0, $"Example {index}:\n{PolicyValidationException.Format(result.Errors)}");
    }

    [Fact]
    public void ReferenceHasExamplesInBothSyntaxes()
    {
        var languages = Examples().Select(row => (string)row[1]).ToHashSet();

        Assert.Contains("yaml", languages);
        Assert.Contains("json", languages);
    }

    [Fact]
    public void ReferenceErrorExample_MatchesTheValidatorsWording()
    {
        var result = TestPolicies.Load("""
            policies:
              - name: default
              - name: a
                match: { models: ["@cf/meta/*"] }
              - name: b
                match: { models: ["@cf/*/llama-*"] }
                prompt: { categories: { S99: block } }
                response: { engine: workers-ai, threshold: 0.8 }
            """);

        var lines = result.Errors.Select(e => e.ToString().Replace("test.yaml", "tenants.yaml", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, lines.Count);
        var block = $"The policy files have 3 problems:\n- {string.Join("\n- ", lines)}\n";
        Assert.True(Reference.Contains(block, StringComparison.Ordinal), "Not in docs/policies.md:\n" + block);
    }

    [GeneratedRegex("```(?<lang>yaml|json)\n(?<text>.*?)```", RegexOptions.Singleline)]
    private static partial Regex CodeBlock();
}
