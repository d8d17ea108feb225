using Guard.Prompts;
using Guard.Verdicts;
using Policies.Config;
using Policies.Evaluation;
using Policies.Model;
using Policies.Store;
using Policies.Validation;

namespace Policies.Tests.Config;

public class LoadingTests
{
    private static string DataFile(string name) => Path.Combine(AppContext.BaseDirectory, "Config", "Data", name);

    [Fact]
    public void YamlAndJson_OfTheSamePolicies_GiveEqualModels()
    {
        var yaml = Load(DataFile("same.yaml"));
        var json = Load(DataFile("same.json"));

        Assert.Equal(ModelText.Describe(yaml), ModelText.Describe(json));
        Assert.Equal(2, yaml.Policies.Count);
    }

    [Fact]
    public void TheFullDocument_ReadsEveryField()
    {
        var set = Load(DataFile("same.yaml"));
        var d = set.ByName["default"];

        Assert.Equal(TimeSpan.FromSeconds(2), d.Prompt.Timeout);
        Assert.Equal(new CategoryRule(PolicyAction.Block, 0.5, PolicyAction.Allow), d.Prompt.Categories["O1"]);
        Assert.Equal(new CategoryRule(PolicyAction.Block, 0.8, PolicyAction.Allow), d.Prompt.Categories["O3"]);
        Assert.Equal(new CategoryRule(PolicyAction.Flag, 0.5, PolicyAction.Allow), d.Prompt.Categories["O4"]);
        Assert.Equal(new CategoryRule(PolicyAction.Flag, 0.5, PolicyAction.Allow), d.Prompt.Categories["O2"]);
        Assert.Equal(PolicyAction.Block, d.Prompt.UnknownCategoryAction);
        Assert.Equal(FailMode.Closed, d.Prompt.FailMode);
        Assert.Null(d.Prompt.Streaming);

        Assert.Equal(FailMode.Open, d.Response.FailMode);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), d.Response.Timeout);
        Assert.True(d.Response.CustomTaxonomy);
        Assert.Equal("Should not\n- write sexual content.", d.Response.Taxonomy!.Categories[1].Description);
        Assert.Equal(PolicyAction.Block, d.Response.Categories["O7"].Action);
        Assert.Equal(
            new StreamingSettings
            {
                Mode = StreamingMode.Windowed,
                Window = 120,
                Unit = WindowUnit.Tokens,
                CloseAtSentenceEnd = false,
                MinWindow = 30,
                HoldBack = 12,
                MaxHeldBytes = 65536,
                MaxHoldTime = TimeSpan.FromSeconds(20),
            },
            d.Response.Streaming);

        var acme = set.ByName["acme"];
        Assert.Equal(["acme", "1234"], acme.Match.Tenants);
        Assert.Equal(["openai-chat"], acme.Match.Routes);
        Assert.True(acme.Locked);
        Assert.Equal(3, acme.Priority);
        Assert.False(acme.Prompt.Check);
        Assert.Equal("lg3", acme.Response.Engine);
        Assert.Equal(14, acme.Response.Categories.Count);
        Assert.Equal(PolicyAction.Flag, acme.Response.Categories["S14"].Action);
        Assert.Equal(StreamingMode.Audit, acme.Response.Streaming!.Mode);
    }

    [Fact]
    public void ExampleBlockFile_IsValid_AndBlocks()
    {
        var set = Load(Path.Combine(AppContext.BaseDirectory, "deploy", "policies", "example-block.yaml"));

        var policy = set.Select(PolicyRoutes.OpenAiChat, "@cf/meta/llama-3-8b-instruct", null);
        Assert.Equal(FailMode.Closed, policy.Prompt.FailMode);
        var verdict = new GuardVerdict { Status = GuardVerdictStatus.Unsafe, Categories = [GuardTaxonomy.LlamaGuard1.Categories[2]], Engine = "onnx", Model = "m" };
        Assert.Equal(PolicyOutcome.Block, PolicyEvaluator.Evaluate(policy.Prompt, verdict).Outcome);
        Assert.Equal(PolicyOutcome.Block, PolicyEvaluator.Evaluate(policy.Response, verdict).Outcome);
        Assert.All(set.Policies, p => Assert.False(string.IsNullOrWhiteSpace(p.Description)));
    }

    [Fact]
    public void SeveralFiles_AreMerged_AndErrorsNameTheirFile()
    {
        using var dir = new TempDirectory();
        dir.Write("base.yaml", "policies: [{ name: default }]");
        dir.Write("tenants.json", """{ "policies": [ { "name": "acme", "match": { "tenants": ["acme"] } } ] }""");
        var ok = PolicyLoader.Load(["base.yaml", "tenants.json"], dir.Path, TestEngines.Default, TestPolicies.LoadedAt);

        Assert.Empty(ok.Errors);
        Assert.Equal(["base.yaml", "tenants.json"], ok.Model!.Files);
        Assert.Equal("acme", ok.Model.Select(PolicyRoutes.WorkersAi, "m", "acme").Name);
        Assert.Equal("tenants.json", ok.Model.ByName["acme"].File);

        dir.Write("tenants.json", """{ "policies": [ { "name": "DEFAULT", "prompt": { "engine": "x" } } ] }""");
        var bad = PolicyLoader.Load(["base.yaml", "tenants.json"], dir.Path, TestEngines.Default, TestPolicies.LoadedAt);

        Assert.Null(bad.Model);
        Assert.Equal(
            ["tenants.json: policies[0].prompt.engine", "tenants.json: policies[0].name", "tenants.json: policies[0].match"],
            bad.Errors.Select(e => e.Where));
        Assert.Contains("'default' at base.yaml: policies[0]", bad.Errors[1].Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingFile_UnknownExtension_AndListedTwice_AreErrors()
    {
        using var dir = new TempDirectory();
        dir.Write("policies.toml", "");
        dir.Write("a.yaml", "policies: [{ name: default }]");

        var result = PolicyLoader.Load(["missing.yaml", "policies.toml", "a.yaml", "./a.yaml"], dir.Path, TestEngines.Default, TestPolicies.LoadedAt);

        Assert.Null(result.Model);
        Assert.Collection(
            result.Errors,
            e => Assert.Equal(("Policies:Files:3", "The file is listed twice."), (e.Path, e.Problem)),
            e => Assert.Equal(("missing.yaml", true), (e.File, e.Problem.StartsWith("The file does not exist", StringComparison.Ordinal))),
            e => Assert.Equal(("policies.toml", "'.toml'"), (e.File, e.Value)));
    }

    [Fact]
    public void NoFiles_GiveTheBuiltInDefault()
    {
        var result = PolicyLoader.Load([], null, TestEngines.Default, TestPolicies.LoadedAt);

        Assert.True(result.Model!.IsBuiltInDefault);
        Assert.Empty(result.Model.Files);
    }

    [Theory]
    [InlineData("250ms", 250)]
    [InlineData("2s", 2000)]
    [InlineData("1.5s", 1500)]
    [InlineData("1m", 60_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("00:00:02.5", 2500)]
    public void Durations_Parse(string text, double milliseconds)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("")]
    [InlineData("-1s")]
    [InlineData("2 days")]
    [InlineData("1e400s")]
    public void Durations_Refuse(string text) => Assert.False(Durations.TryParse(text, out _));

    [Fact]
    public void Yaml_QuotedScalarsStayStrings()
    {
        var result = TestPolicies.Load("policies: [{ name: default, prompt: { check: 'true' } }]");

        Assert.Equal("'true'", Assert.Single(result.Errors).Value);
    }

    [Fact]
    public void Yaml_AliasesAreExpanded()
    {
        var set = TestPolicies.Valid("""
            policies:
              - name: default
                prompt: &strict { failMode: closed, categories: { O1: block } }
                response: *strict
            """);

        Assert.Equal(PolicyAction.Block, set.Policies[0].Response.Categories["O1"].Action);
    }

    private static PolicySetModel Load(string path)
    {
        var result = PolicyLoader.Build([PolicyDocuments.ReadFile(path, Path.GetFileName(path))], TestEngines.Default, TestPolicies.LoadedAt);
        Assert.True(result.Errors.Count == 0, PolicyValidationException.Format(result.Errors));
        return result.Model!;
    }
}
