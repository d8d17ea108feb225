using Gateway.Auth;
using Gateway.Generation;
using Gateway.Upstreams;
using Policies;
using Policies.Model;
using Policies.Store;

namespace Gateway.Moderation;

/// <summary>The policy selection step: the request's policy from its route, model and the caller's tenant, chosen once
/// and kept on the <see cref="ModerationContext"/> for every later step. The served Llama Guard model is exempt: the
/// guard is not asked to judge its own traffic.</summary>
internal sealed class ModerationPolicySelector(PolicyStore policies, UpstreamRegistry upstreams)
{
    /// <summary>Selects and records the policy; null when the request is exempt.</summary>
    public PolicyModel? Select(ModerationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        if (upstreams.ServesGuard(request.Model))
        {
            return context.Policy = null;
        }
        var tenant = context.HttpContext.Features.Get<CallerIdentity>()?.Tenant;
        return context.Policy = policies.Select(Route(request.Api), request.Model.Id, tenant);
    }

    internal static string Route(ClientApi api) => api switch
    {
        ClientApi.OpenAiChat => PolicyRoutes.OpenAiChat,
        ClientApi.OpenAiCompletions => PolicyRoutes.OpenAiCompletions,
        _ => PolicyRoutes.WorkersAi,
    };
}
