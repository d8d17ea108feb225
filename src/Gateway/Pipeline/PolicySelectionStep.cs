using System.Diagnostics;
using Gateway.Auth;
using Gateway.Generation;
using Gateway.Moderation;
using Gateway.Telemetry;
using Gateway.Upstreams;
using Policies;
using Policies.Store;
using G = Gateway.Telemetry.SemanticNames.Gateway;

namespace Gateway.Pipeline;

/// <summary>Chooses the request's policy from its route, model and the caller's tenant (set by authentication), once,
/// for every later step. The served Llama Guard model is exempt: the guard is not asked to judge its own traffic.
/// The decision is a <c>moderation.policy</c> span, and the policy's name an attribute of the API call's span.</summary>
internal sealed class PolicySelectionStep(PolicyStore policies, UpstreamRegistry upstreams) : IGenerationStep
{
    public ValueTask<bool> RunAsync(ModerationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        var tenant = context.HttpContext.Features.Get<CallerIdentity>()?.Tenant;
        using var span = GatewayMetrics.ActivitySource.HasListeners()
            ? GatewayMetrics.ActivitySource.StartActivity(G.PolicySpan, ActivityKind.Internal)
            : null;
        var route = Route(request.Api);
        var exempt = upstreams.ServesGuard(request.Model);
        context.Policy = exempt ? null : policies.Select(route, request.Model.Id, tenant);
        if (span is not null)
        {
            span.SetTag(G.PolicyRoute, route);
            span.SetTag(SemanticNames.GenAi.RequestModel, request.Model.Id);
            if (tenant is { Length: > 0 })
            {
                span.SetTag(G.Tenant, tenant);
            }
            span.SetTag(G.Exempt, exempt);
            if (context.Policy is { } policy)
            {
                span.SetTag(G.Policy, policy.Name);
            }
        }
        if (context.Policy is { } chosen)
        {
            context.Span?.SetTag(G.Policy, chosen.Name);
        }
        return ValueTask.FromResult(true);
    }

    internal static string Route(ClientApi api) => api switch
    {
        ClientApi.OpenAiChat => PolicyRoutes.OpenAiChat,
        ClientApi.OpenAiCompletions => PolicyRoutes.OpenAiCompletions,
        _ => PolicyRoutes.WorkersAi,
    };
}
