using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Moderation;

/// <summary>Registers the moderation steps: policy selection, the prompt check, and the response check with its
/// stream filter.</summary>
public static class ModerationExtensions
{
    /// <summary>Adds the policy selector, the guard checker and the prompt and response moderators unless others are
    /// registered.</summary>
    public static IServiceCollection AddModerationSeam(this IServiceCollection services)
    {
        services.TryAddSingleton<ModerationPolicySelector>();
        services.TryAddSingleton<GuardChecker>();
        services.TryAddSingleton<IPromptModerator, PolicyPromptModerator>();
        services.TryAddSingleton<IResponseModerator, PolicyResponseModerator>();
        return services;
    }
}
