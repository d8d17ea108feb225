using Gateway.Auth;
using Gateway.Generation;
using Gateway.Moderation;
using Gateway.Upstreams;
using Policies;
using Policies.Store;

namespace Gateway.Pipeline;

/// <summary>Chooses the request's policy from its route, model and the caller's tenant (set by authentication), once,
/// for every later step. The served Llama Guard model is exempt: the guard is not asked to judge its own traffic.</summary>
internal sealed class PolicySelectionStep(PolicyStore policies, UpstreamRegistry upstreams) : IGenerationStep
{
    public ValueTask<bool> RunAsync(ModerationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var request = context.Request;
        var tenant = context.HttpContext.Features.Get<CallerIdentity>()?.Tenant;
        context.Policy = upstreams.ServesGuard(request.Model) ? null : policies.Select(Route(request.Api), request.Model.Id, tenant);
        return ValueTask.FromResult(true);
    }

    internal static string Route(ClientApi api) => api switch
    {
        ClientApi.OpenAiChat => PolicyRoutes.OpenAiChat,
        ClientApi.OpenAiCompletions => PolicyRoutes.OpenAiCompletions,
        _ => PolicyRoutes.WorkersAi,
    };
}
