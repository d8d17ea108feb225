using Gateway.Guarding;
using Gateway.Health;
using Gateway.Tests.Guarding;
using Guard.Engines;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Health;

/// <summary><c>/readyz</c> shows every guard engine's health and the default; a failing engine degrades readiness
/// without failing it.</summary>
public sealed class GuardReadyCheckTests
{
    [Fact]
    public async Task ReadyCheck_ReportsEveryEnginesHealth_AndDegradesWhenOneFails()
    {
        var a = new StubGuardEngine("engine-a");
        var b = new StubGuardEngine("engine-b");
        using var provider = new GuardEngineProvider([new("a", a), new("b", b)], "a");
        var check = new GuardReadyCheck(provider);

        var healthy = await check.CheckHealthAsync(new HealthCheckContext());
        b.Health = new GuardEngineHealth(GuardHealthStatus.Unhealthy, 3, null, DateTimeOffset.UnixEpoch, "engine-b: the guard server answered HTTP 503");
        var degraded = await check.CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Equal("a", healthy.Data["default"]);
        var engines = Assert.IsType<Dictionary<string, object>>(healthy.Data["engines"]);
        Assert.Equal(["a", "b"], engines.Keys);
        Assert.Equal("Healthy", Assert.IsType<Dictionary<string, object>>(engines["b"])["status"]);
        Assert.Equal(HealthStatus.Degraded, degraded.Status);
        Assert.Contains("guard engine(s) b;", degraded.Description, StringComparison.Ordinal);
        var failing = Assert.IsType<Dictionary<string, object>>(Assert.IsType<Dictionary<string, object>>(degraded.Data["engines"])["b"]);
        Assert.Equal("Unhealthy", failing["status"]);
        Assert.Equal(3, failing["consecutiveFailures"]);
        Assert.Equal("engine-b: the guard server answered HTTP 503", failing["lastError"]);
        Assert.Equal("stub-engine-b", failing["model"]);
    }

    [Fact]
    public async Task ReadyCheck_WithoutEngines_IsHealthy()
    {
        using var provider = new GuardEngineProvider(Microsoft.Extensions.Options.Options.Create(new GuardOptions()), TimeProvider.System,
            NullLogger<GuardEngineProvider>.Instance);

        var result = await new GuardReadyCheck(provider).CheckHealthAsync(new HealthCheckContext());

        Assert.Equal(HealthStatus.Healthy, result.Status);
        Assert.Equal("no guard engine configured", result.Description);
    }
}
