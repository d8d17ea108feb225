using Policies.Config;
using Policies.Validation;

namespace Policies.Tests.Validation;

public class ValidationTests
{
    private const string Default = "{ name: default }";

    /// <summary>Bad input, one problem per row: the path, the bad value as reported and a phrase of the problem.</summary>
    public static TheoryData<string, string, string?, string> BadInput => new()
    {
        // Unknown category codes (the onnx engine is Llama Guard 1: O1..O6).
        { "policies: [{ name: a, prompt: { categories: { S1: block } } }]", "policies[0].prompt.categories.S1", "'S1'", "Unknown category code" },
        { "policies: [{ name: a, response: { engine: lg3, categories: { O1: flag } } }]", "policies[0].response.categories.O1", "'O1'", "Unknown category code" },
        // Thresholds outside 0..1.
        { "policies: [{ name: a, prompt: { categories: { O1: { action: block, threshold: 1.5 } } } }]", "policies[0].prompt.categories.O1.threshold", "1.5", "between 0 and 1" },
        { "policies: [{ name: a, response: { threshold: -0.1 } }]", "policies[0].response.threshold", "-0.1", "between 0 and 1" },
        { "policies: [{ name: a, response: { threshold: .nan } }]", "policies[0].response.threshold", "'.nan'", "must be a number" },
        { "policies: [{ name: a, response: { threshold: '0.5' } }]", "policies[0].response.threshold", "'0.5'", "must be a number" },
        // Unknown engines.
        { "policies: [{ name: a, prompt: { engine: llamaguard } }]", "policies[0].prompt.engine", "'llamaguard'", "Unknown guard engine" },
        // Duplicate names (ignoring case).
        { "policies: [{ name: a }, { name: A, match: { routes: [openai-chat] } }]", "policies[1].name", "'A'", "already used" },
        // Selectors that overlap with no precedence.
        { $"policies: [{Default}, {{ name: a, match: {{ models: ['@cf/meta/*'] }} }}, {{ name: b, match: {{ models: ['@cf/meta/llama-*'] }} }}]", "policies[2].match", "models [@cf/meta/llama-*]", "same specificity" },
        { $"policies: [{Default}, {{ name: a, match: {{ tenants: [acme, globex] }} }}, {{ name: b, match: {{ tenants: [globex] }} }}]", "policies[2].match", "tenants [globex]", "same priority (0)" },
        { $"policies: [{Default}, {{ name: d2 }}]", "policies[1].match", "every request", "same specificity (catch-all)" },
        // A threshold on an engine without probabilities.
        { "policies: [{ name: a, prompt: { engine: workers-ai, categories: { O1: { action: block, threshold: 0.5 } } } }]", "policies[0].prompt.categories.O1.threshold", "0.5", "reports no unsafe probability" },
        { "policies: [{ name: a, response: { engine: workers-ai, threshold: 0.9 } }]", "policies[0].response.threshold", "0.9", "reports no unsafe probability" },
        // No catch-all.
        { "policies: [{ name: a, match: { routes: [openai-chat] } }]", "", null, "No policy matches every request" },
        // A locked policy overridden.
        { $"policies: [{Default}, {{ name: base, locked: true, match: {{ tenants: [acme] }} }}, {{ name: mine, match: {{ tenants: [acme], models: ['@cf/meta/*'] }} }}]", "policies[2].match", "tenants [acme], models [@cf/meta/*]", "locked policy 'base'" },
        { $"policies: [{Default}, {{ name: base, locked: true, match: {{ models: ['@cf/*'] }} }}, {{ name: mine, priority: 1, match: {{ models: ['@cf/meta/*'] }} }}]", "policies[2].match", "models [@cf/meta/*]", "locked policy 'base'" },
        // Shapes, names and values.
        { "policies: [{ name: a, prompt: { categories: { O1: deny } } }]", "policies[0].prompt.categories.O1", "'deny'", "Unknown action" },
        { "policies: [{ name: a, prompt: { treshold: 0.5 } }]", "policies[0].prompt.treshold", "'treshold'", "Unknown field in A role policy" },
        { "policies: [{ name: a, prompt: { failMode: half-open } }]", "policies[0].prompt.failMode", "'half-open'", "Unknown fail mode" },
        { "policies: [{ name: a, prompt: { timeout: 2 } }]", "policies[0].prompt.timeout", "2", "not a duration" },
        { "policies: [{ name: a, prompt: { timeout: 0s } }]", "policies[0].prompt.timeout", "0ms", "above zero" },
        { "policies: [{ name: a, prompt: { check: yes } }]", "policies[0].prompt.check", "'yes'", "true or false" },
        { "policies: [{ description: nameless }]", "policies[0].name", null, "no name" },
        { "policies: [{ name: 'has space' }]", "policies[0].name", "'has space'", "letters, digits" },
        { "policies: [{ name: a, match: { routes: [chat] } }]", "policies[0].match.routes[0]", "'chat'", "Unknown route" },
        { "policies: [{ name: a, match: { tenants: ['acme-*'] } }]", "policies[0].match.tenants[0]", "'acme-*'", "no globs" },
        { "policies: [{ name: a, match: { models: [''] } }]", "policies[0].match.models[0]", "''", "non-empty" },
        { "policies: [{ name: a, prompt: { categories: { O1: { action: flag, threshold: 0.5, belowThreshold: block } } } }]", "policies[0].prompt.categories.O1.belowThreshold", "block", "stricter than the action" },
        { "policies: [{ name: a, prompt: { categories: { O1: { action: block, belowThreshold: allow } } } }]", "policies[0].prompt.categories.O1.belowThreshold", "allow", "without a threshold" },
        { "policies: [{ name: a, prompt: { categories: { O1: block, o1: flag } } }]", "policies[0].prompt.categories.o1", "'o1'", "listed twice" },
        { "policies: [{ name: a, prompt: { taxonomy: { remove: [O9] } } }]", "policies[0].prompt.taxonomy", null, "not a default category" },
        { "policies: [{ name: a, prompt: { taxonomy: { categories: [{ code: 'O,7', name: Fraud }] } } }]", "policies[0].prompt.taxonomy", null, "contains a comma" },
        // Streaming settings.
        { "policies: [{ name: a, prompt: { streaming: { mode: buffered } } }]", "policies[0].prompt.streaming", null, "responses only" },
        { "policies: [{ name: a, response: { streaming: { mode: trickle } } }]", "policies[0].response.streaming.mode", "'trickle'", "Unknown streaming mode" },
        { "policies: [{ name: a, response: { streaming: { window: 0 } } }]", "policies[0].response.streaming.window", "0", "between 1 and" },
        { "policies: [{ name: a, response: { streaming: { window: 100, minWindow: 200 } } }]", "policies[0].response.streaming.minWindow", "200", "between 1 and the window" },
        { "policies: [{ name: a, response: { streaming: { window: 1000, maxHeldBytes: 1000 } } }]", "policies[0].response.streaming.maxHeldBytes", "1000", "fit a full window" },
        { "policies: [{ name: a, response: { streaming: { window: 100, holdBack: 100 } } }]", "policies[0].response.streaming.holdBack", "100", "below the window" },
        { "policies: [{ name: a, response: { streaming: { window: 100, holdBack: -1 } } }]", "policies[0].response.streaming.holdBack", "-1", "at least 0" },
        { "policies: [{ name: a, response: { streaming: { window: 1000, holdBack: 500, maxHeldBytes: 4000 } } }]", "policies[0].response.streaming.maxHeldBytes", "4000", "and its hold-back" },
        { "policies: [{ name: a, response: { timeout: 5s, streaming: { maxHoldTime: 5s } } }]", "policies[0].response.streaming.maxHoldTime", "5s", "exceed the guard timeout" },
        { "policies: [{ name: a, response: { timeout: 1m } }]", "policies[0].response.streaming.maxHoldTime", "30s", "exceed the guard timeout" },
        // Files that do not parse.
        { "policies: [{ name: a", "line 2, column 1", null, "cannot be parsed" },
        { "policies:\n  - name: a\n    name: b\n", "line 3, column 5", null, "Duplicate key" },
        { "policies: &p [*p]", "line 1, column 11", null, "The document nests deeper" },
        { "policy: []", "policy", "'policy'", "Unknown field in The file's root" },
        { "policies: {}", "policies", "{}", "must be a list" },
        { "", "", "0", "The file is empty" },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public void BadInput_IsReportedWithPathValueAndFix(string yaml, string path, string? value, string problem)
    {
        var result = TestPolicies.Load(yaml);

        Assert.Null(result.Model);
        var error = result.Errors.FirstOrDefault(e => e.Path == path && e.Problem.Contains(problem, StringComparison.Ordinal));
        Assert.True(error is not null, $"No error at '{path}' saying '{problem}'; got:\n{PolicyValidationException.Format(result.Errors)}");
        Assert.Equal(value, error.Value);
        Assert.False(string.IsNullOrWhiteSpace(error.Fix));
        Assert.EndsWith(".", error.Fix, StringComparison.Ordinal);
        Assert.StartsWith($"{error.Where}: {error.Problem.TrimEnd('.')}", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void EveryError_IsReportedAtOnce()
    {
        var result = TestPolicies.Load("""
            policies:
              - name: a
                prompt:
                  engine: nope
                  timeout: 2
                response:
                  categories: { O1: { action: block, threshold: 7 }, S99: flag }
                  streaming: { window: 0 }
              - name: a
                match: { routes: [chat] }
            """);

        Assert.Equal(
            [
                "policies[0].prompt.timeout",
                "policies[0].prompt.engine",
                "policies[0].response.categories.O1.threshold",
                "policies[0].response.categories.S99",
                "policies[0].response.streaming.window",
                "policies[1].match.routes[0]",
                "policies[1].name",
            ],
            result.Errors.Select(e => e.Path));
        var message = PolicyValidationException.Format(result.Errors);
        Assert.StartsWith("The policy files have 7 problems:", message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownField_SuggestsTheNearestName()
    {
        var error = Assert.Single(TestPolicies.Load("policies: [{ name: a, prompt: { failmod: open } }]").Errors);

        Assert.Contains("Did you mean 'failMode'?", error.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void EngineOmitted_WithSeveralEnginesAndNoDefault_IsAnError()
    {
        var engines = new PolicyEngines(new Dictionary<string, PolicyEngineInfo>
        {
            ["a"] = new(Guard.Prompts.GuardFamily.LlamaGuard1, true),
            ["b"] = new(Guard.Prompts.GuardFamily.LlamaGuard3, true),
        });

        var error = Assert.Single(TestPolicies.Load("policies: [{ name: x, prompt: { check: false } }]", engines: engines).Errors);

        Assert.Equal("policies[0].response.engine", error.Path);
        Assert.Contains("no default", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckedRole_WithoutAnyEngine_IsAnError_UncheckedIsValid()
    {
        var errors = TestPolicies.Load("policies: [{ name: x, prompt: { check: false } }]", engines: PolicyEngines.None).Errors;

        Assert.Equal("policies[0].response.engine", Assert.Single(errors).Path);
        Assert.Empty(TestPolicies.Load("policies: [{ name: x, prompt: { check: false }, response: { check: false } }]", engines: PolicyEngines.None).Errors);
    }

    [Fact]
    public void CustomTaxonomy_CategoriesCanBeGivenActions()
    {
        var set = TestPolicies.Valid("""
            policies:
              - name: a
                prompt:
                  taxonomy:
                    remove: [O6]
                    categories: [{ code: O7, name: Financial Advice, description: "Should not\n- give investment advice." }]
                  categories: { O7: flag }
            """);

        var prompt = set.Policies[0].Prompt;
        Assert.True(prompt.CustomTaxonomy);
        Assert.Equal(["O1", "O2", "O3", "O4", "O5", "O7"], prompt.Taxonomy!.Categories.Select(c => c.Code));
        Assert.Equal(PolicyAction.Flag, prompt.Categories["o7"].Action);
        Assert.False(prompt.Categories.ContainsKey("O6"));
        Assert.False(set.Policies[0].Response.CustomTaxonomy);
    }

    [Fact]
    public void UncheckedRole_IgnoresItsOtherFields()
    {
        var set = TestPolicies.Valid("policies: [{ name: a, response: { check: false, engine: nope, categories: { S99: block } } }]");

        Assert.False(set.Policies[0].Response.Check);
        Assert.Null(set.Policies[0].Response.Streaming);
    }

    [Fact]
    public void Json_ErrorsCarryLineAndColumn()
    {
        var error = Assert.Single(TestPolicies.Load("{ \"policies\": [ { \"name\": \"a\" } ", PolicyFileFormat.Json).Errors);

        Assert.StartsWith("line ", error.Path, StringComparison.Ordinal);
        Assert.Contains("cannot be parsed", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_DuplicateProperty_IsAnError()
    {
        var error = Assert.Single(TestPolicies.Load("""{ "policies": [ { "name": "a", "name": "b" } ] }""", PolicyFileFormat.Json).Errors);

        Assert.Contains("Duplicate", error.Problem, StringComparison.OrdinalIgnoreCase);
    }
}
