using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Gateway.Auth;

/// <summary>Registers and applies API-key authentication.</summary>
public static partial class AuthExtensions
{
    /// <summary>Adds the authenticator from <c>Auth</c>; invalid settings stop start-up with every problem listed.</summary>
    public static IServiceCollection AddGatewayAuthentication(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(AuthOptions.SectionName).Get<AuthOptions>() ?? new AuthOptions();
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid authentication configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
        }
        services.TryAddSingleton(new ApiKeyAuthenticator(options));
        return services;
    }

    /// <summary>Puts authentication in front of the API endpoints and logs which mode is in use.</summary>
    public static WebApplication UseGatewayAuthentication(this WebApplication app)
    {
        var authenticator = app.Services.GetRequiredService<ApiKeyAuthenticator>();
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Auth");
        if (authenticator.Enabled)
        {
            LogApiKeys(logger, authenticator.KeyCount, authenticator.Tenants);
        }
        else
        {
            LogOff(logger);
        }
        app.UseMiddleware<AuthenticationMiddleware>();
        return app;
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Authentication: API keys ({Keys} keys, {Tenants} tenants)")]
    private static partial void LogApiKeys(ILogger logger, int keys, int tenants);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Authentication: off (Auth:Mode is None); every caller is served. Bind to localhost or set Auth:Mode=ApiKeys")]
    private static partial void LogOff(ILogger logger);
}
