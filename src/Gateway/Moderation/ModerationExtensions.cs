using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Moderation;

/// <summary>Registers the moderation services the pipeline's steps use: the guard checker, and the prompt and response
/// moderators.</summary>
public static class ModerationExtensions
{
    /// <summary>Adds the guard checker and the prompt and response moderators unless others are registered.</summary>
    public static IServiceCollection AddModerationSeam(this IServiceCollection services)
    {
        services.TryAddSingleton<GuardChecker>();
        services.TryAddSingleton<IPromptModerator, PolicyPromptModerator>();
        services.TryAddSingleton<IResponseModerator, PolicyResponseModerator>();
        return services;
    }
}
