using Gateway.Upstreams;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Yarp.ReverseProxy;

namespace Gateway.Health;

/// <summary>Liveness (<c>/healthz</c>: the process serves) and readiness (<c>/readyz</c>: every upstream has a
/// destination YARP considers available; the guard engines' health; the policies' state), with each check's details as JSON.</summary>
public static class HealthEndpoints
{
    /// <summary>Registers the health checks.</summary>
    public static IServiceCollection AddGatewayHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<UpstreamsReadyCheck>("upstreams", tags: ["ready"])
            .AddCheck<GuardReadyCheck>("guard", tags: ["ready"]);
        return services;
    }

    /// <summary>Maps the health endpoints.</summary>
    public static IEndpointRouteBuilder MapGatewayHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false });
        endpoints.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = HealthJson.WriteAsync });
        return endpoints;
    }
}

internal sealed class UpstreamsReadyCheck(UpstreamRegistry upstreams, IProxyStateLookup proxyState) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var missing = new List<string>();
        foreach (var upstream in upstreams.Upstreams)
        {
            if (upstream.Options.Kind.IsInProcess())
            {
                continue;
            }
            if (!proxyState.TryGetCluster(upstream.ClusterId, out var cluster) || cluster.DestinationsState.AvailableDestinations.Count == 0)
            {
                missing.Add(upstream.Name);
            }
        }
        return Task.FromResult(missing.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("no available destination for upstream(s): " + string.Join(", ", missing)));
    }
}
