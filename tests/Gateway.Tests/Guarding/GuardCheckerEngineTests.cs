using Gateway.Caching;
using Gateway.Guarding;
using Gateway.Moderation;
using Gateway.Telemetry;
using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Policies;
using Policies.Config;
using Policies.Evaluation;
using Policies.Model;
using Policies.Store;
using Policies.Validation;

namespace Gateway.Tests.Guarding;

/// <summary>Each check runs on its role's engine; a role whose engine is gone gets its fail mode.</summary>
public sealed class GuardCheckerEngineTests : IDisposable
{
    private const string Policies = """
        policies:
          - name: by-default
            prompt: { failMode: closed }
            response: { check: false }
          - name: on-a
            match: { models: [model-a] }
            prompt: { engine: A, failMode: closed }
            response: { check: false }
          - name: on-b
            match: { models: [model-b] }
            prompt: { engine: b, failMode: closed }
            response: { check: false }
          - name: on-gone-open
            match: { models: [model-gone-open] }
            prompt: { engine: gone, failMode: open }
            response: { check: false }
          - name: on-gone-closed
            match: { models: [model-gone-closed] }
            prompt: { engine: gone, failMode: closed }
            response: { check: false }
        """;

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly StubGuardEngine _a = new("engine-a", output: "safe");
    private readonly StubGuardEngine _b = new("engine-b", output: "unsafe\nO3");
    private readonly StubGuardEngine _default = new("engine-default", output: "safe");

    public void Dispose() => _services.Dispose();

    [Theory]
    [InlineData("model-a", "on-a", PolicyOutcome.Allow, 1, 0, 0)]
    [InlineData("model-b", "on-b", PolicyOutcome.Block, 0, 1, 0)]
    [InlineData("model-other", "by-default", PolicyOutcome.Allow, 0, 0, 1)]
    public async Task EachRole_IsCheckedOnItsEngine(string model, string policy, PolicyOutcome outcome, int a, int b, int byDefault)
    {
        var role = Role(model);
        var checker = Checker(new GuardEngineProvider([new("a", _a), new("b", _b), new("main", _default)], "main"));

        var (decision, _) = await checker.CheckAsync(role, GuardConversation.ForPrompt("hello"), null, CancellationToken.None);

        Assert.Equal(policy, decision.PolicyName);
        Assert.Equal(outcome, decision.Outcome);
        Assert.Equal((a, b, byDefault), (_a.Calls, _b.Calls, _default.Calls));
    }

    [Theory]
    [InlineData("model-gone-open", PolicyOutcome.FailOpen)]
    [InlineData("model-gone-closed", PolicyOutcome.FailClosed)]
    public async Task AnEngineThatIsGone_IsAnEngineError_UnderTheRolesFailMode(string model, PolicyOutcome outcome)
    {
        var role = Role(model);
        var checker = Checker(new GuardEngineProvider([new("a", _a), new("b", _b), new("main", _default)], "main"));

        var (decision, _) = await checker.CheckAsync(role, GuardConversation.ForPrompt("hello"), null, CancellationToken.None);

        Assert.Equal(outcome, decision.Outcome);
        Assert.Equal(GuardFailureKind.EngineError, decision.Failure);
        Assert.Contains("'gone'", decision.Detail, StringComparison.Ordinal);
        Assert.Equal(0, _a.Calls + _b.Calls + _default.Calls);
    }

    private GuardChecker Checker(GuardEngineProvider provider) =>
        new(provider, VerdictCache.Off, new GatewayMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()), TimeProvider.System,
            NullLogger<GuardChecker>.Instance);

    /// <summary>The prompt role of the policy for <paramref name="model"/>, validated against engines a, b, main (the
    /// default) and gone, as if a reload had seen an engine the gateway no longer has.</summary>
    private static RolePolicyModel Role(string model)
    {
        var info = new PolicyEngineInfo(GuardFamily.LlamaGuard1, ReportsUnsafeProbability: false);
        var engines = new PolicyEngines(new Dictionary<string, PolicyEngineInfo> { ["a"] = info, ["b"] = info, ["main"] = info, ["gone"] = info }, "main");
        var result = PolicyLoader.Build([PolicyDocuments.Read(Policies, PolicyFileFormat.Yaml, "policies.yaml")], engines, DateTimeOffset.UnixEpoch);
        Assert.True(result.Errors.Count == 0, PolicyValidationException.Format(result.Errors));
        return result.Model!.Select("openai-chat", model, null).Prompt;
    }
}
