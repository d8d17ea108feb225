using System.Globalization;
using Gateway.Guarding;
using Guard.Engines;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Gateway.Health;

/// <summary>Readiness detail for the guard engines: each engine's model, family and health from its recent calls, and
/// the default. An engine whose calls fail degrades readiness without failing it: the checks that use it apply their
/// fail modes, and the gateway still serves everything else.</summary>
internal sealed class GuardReadyCheck(GuardEngineProvider guard) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (guard.Engines.Count == 0)
        {
            return Task.FromResult(HealthCheckResult.Healthy("no guard engine configured"));
        }
        var engines = new Dictionary<string, object>(StringComparer.Ordinal);
        var failing = new List<string>();
        foreach (var (name, engine) in guard.Engines.OrderBy(e => e.Key, StringComparer.OrdinalIgnoreCase))
        {
            var health = engine.Health;
            if (health.Status != GuardHealthStatus.Healthy)
            {
                failing.Add(name);
            }
            var details = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["model"] = engine.Model,
                ["family"] = engine.Family.ToString(),
                ["status"] = health.Status.ToString(),
                ["consecutiveFailures"] = health.ConsecutiveFailures,
            };
            if (health.LastSuccess is { } success)
            {
                details["lastSuccess"] = success.ToString("O", CultureInfo.InvariantCulture);
            }
            if (health.LastFailure is { } failure)
            {
                details["lastFailure"] = failure.ToString("O", CultureInfo.InvariantCulture);
            }
            if (health.LastError is { } error)
            {
                details["lastError"] = error;
            }
            engines[name] = details;
        }
        var data = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["default"] = guard.DefaultName!,
            ["engines"] = engines,
        };
        return Task.FromResult(failing.Count == 0
            ? HealthCheckResult.Healthy($"{engines.Count} guard engine(s) healthy", data)
            : HealthCheckResult.Degraded($"recent calls failed on guard engine(s) {string.Join(", ", failing)}; their checks apply their fail modes", data: data));
    }
}
