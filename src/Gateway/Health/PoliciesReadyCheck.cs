using Microsoft.Extensions.Diagnostics.HealthChecks;
using Policies.Store;

namespace Gateway.Health;

/// <summary>Readiness detail for the policies: which files, how many policies, and the last reload error. A failed
/// reload keeps the last good policies in force, so it degrades readiness without failing it.</summary>
internal sealed class PoliciesReadyCheck(PolicyStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = store.Status;
        var data = status.ToDetails();
        return Task.FromResult(status.IsCurrent
            ? HealthCheckResult.Healthy($"{status.PolicyCount} policies in force", data)
            : HealthCheckResult.Degraded("the last policy reload failed; the last good policies stay in force", data: data));
    }
}
