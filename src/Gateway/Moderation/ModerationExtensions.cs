using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Moderation;

/// <summary>Registers the moderation seam with pass-through defaults that later steps replace.</summary>
public static class ModerationExtensions
{
    /// <summary>Adds pass-through prompt and response moderators unless others are registered.</summary>
    public static IServiceCollection AddModerationSeam(this IServiceCollection services)
    {
        services.TryAddSingleton<PassThroughModerator>();
        services.TryAddSingleton<IPromptModerator>(sp => sp.GetRequiredService<PassThroughModerator>());
        services.TryAddSingleton<IResponseModerator>(sp => sp.GetRequiredService<PassThroughModerator>());
        return services;
    }
}
