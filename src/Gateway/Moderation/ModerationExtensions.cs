using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Moderation;

/// <summary>Registers the moderation seam: the policy prompt check, and pass-through response moderation until the
/// response check and stream filter replace it.</summary>
public static class ModerationExtensions
{
    /// <summary>Adds the prompt and response moderators unless others are registered.</summary>
    public static IServiceCollection AddModerationSeam(this IServiceCollection services)
    {
        services.TryAddSingleton<PassThroughModerator>();
        services.TryAddSingleton<IPromptModerator, PolicyPromptModerator>();
        services.TryAddSingleton<IResponseModerator>(sp => sp.GetRequiredService<PassThroughModerator>());
        return services;
    }
}
