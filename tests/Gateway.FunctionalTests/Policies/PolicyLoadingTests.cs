using System.Net;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Policies.Store;
using Policies.Validation;

namespace Gateway.FunctionalTests.Policies;

/// <summary>The gateway loads its policy files at start-up, refuses to start on an invalid one, and shows the
/// policies' state, including a failed reload, on <c>/readyz</c>.</summary>
public sealed class PolicyLoadingTests : IDisposable
{
    private const string Valid = """
        policies:
          - name: default
            prompt: { check: false }
            response: { check: false }
          - name: team-a
            match: { tenants: [team-a] }
            prompt: { check: false }
            response: { check: false }
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-policies-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task NoFiles_TheBuiltInPolicyIsInForce_AndReadyzSaysSo()
    {
        await using var gateway = await GatewayServer.StartAsync();

        var (status, ready) = await ReadyAsync(gateway);

        Assert.Equal(HttpStatusCode.OK, status);
        var policies = ready.GetProperty("checks").GetProperty("policies");
        Assert.Equal("Healthy", policies.GetProperty("status").GetString());
        Assert.Equal("(none: built-in policy)", policies.GetProperty("data").GetProperty("files").GetString());
    }

    [Fact]
    public async Task InvalidReload_KeepsTheLastGoodPolicies_AndDegradesReadyzWithTheReason()
    {
        var file = Path.Combine(_directory, "policies.yaml");
        await File.WriteAllTextAsync(file, Valid);
        await using var gateway = await GatewayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Policies:Files:0"] = file,
            ["Policies:Watch"] = "false",
        });
        var store = gateway.Services.GetRequiredService<PolicyStore>();
        Assert.Equal(2, (await ReadyAsync(gateway)).Body.GetProperty("checks").GetProperty("policies").GetProperty("data").GetProperty("policies").GetInt32());

        await File.WriteAllTextAsync(file, Valid.Replace("check: false }\n    response", "check: false, bogus: 1 }\n    response", StringComparison.Ordinal));
        var failed = await store.ReloadAsync();
        var (status, ready) = await ReadyAsync(gateway);

        Assert.False(failed.Applied);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Degraded", ready.GetProperty("status").GetString());
        var policies = ready.GetProperty("checks").GetProperty("policies");
        Assert.Equal("Degraded", policies.GetProperty("status").GetString());
        Assert.Contains("bogus", policies.GetProperty("data").GetProperty("lastError").GetString(), StringComparison.Ordinal);
        Assert.Equal("team-a", store.Select("openai-chat", "@cf/meta/llama-2-7b-chat-fp16", "team-a").Name);

        await File.WriteAllTextAsync(file, Valid);
        Assert.True((await store.ReloadAsync()).Applied);
        Assert.Equal("Healthy", (await ReadyAsync(gateway)).Body.GetProperty("checks").GetProperty("policies").GetProperty("status").GetString());
    }

    [Fact]
    public async Task InvalidFile_StopsStartUp_WithThePathAndTheProblem()
    {
        var file = Path.Combine(_directory, "bad.yaml");
        await File.WriteAllTextAsync(file, """
            policies:
              - name: default
                prompt: { check: true }
            """);

        var ex = await Assert.ThrowsAsync<PolicyValidationException>(() => GatewayServer.StartAsync(new Dictionary<string, string?>
        {
            ["Policies:Files:0"] = file,
        }));

        Assert.NotEmpty(ex.Errors);
        Assert.Contains(file, ex.Message, StringComparison.Ordinal);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyAsync(GatewayServer gateway)
    {
        using var response = await gateway.Client.GetAsync("/readyz");
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }
}
