using Gateway.Auth;
using Gateway.Caching;
using Gateway.Catalog;
using Gateway.Configuration;
using Gateway.Demo;
using Gateway.Endpoints;
using Gateway.Errors;
using Gateway.Formatting;
using Gateway.Generation;
using Gateway.Guarding;
using Gateway.Health;
using Gateway.Moderation;
using Gateway.Pipeline;
using Gateway.Proxy;
using Gateway.Telemetry;
using Gateway.Tokens;
using Gateway.Upstreams;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Hosting;

/// <summary>Registers the gateway's services.</summary>
public static class GatewayServiceExtensions
{
    /// <summary>Adds the catalog, upstreams, YARP, the moderation seam, health and telemetry.</summary>
    public static IServiceCollection AddGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.Configure<GatewayOptions>(configuration.GetSection(GatewayOptions.SectionName));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => ModelCatalog.Build(sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Models));
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<GatewayOptions>>().Value;
            return UpstreamRegistry.Build(options.Upstreams, options.Routes, sp.GetRequiredService<ModelCatalog>(),
                cluster => configuration.GetSection($"ReverseProxy:Clusters:{cluster}").Exists());
        });
        services.AddReverseProxy().LoadFromConfig(configuration.GetSection("ReverseProxy"));
        services.Configure<GuardOptions>(configuration.GetSection(GuardOptions.SectionName));
        services.TryAddSingleton<GuardEngineProvider>();
        services.TryAddSingleton<GuardBackend>();
        services.TryAddSingleton<DemoBackend>();
        services.TryAddSingleton<OpenAiFormatter>();
        services.TryAddSingleton<GenerationProxy>();
        services.TryAddSingleton<PolicySelectionStep>();
        services.TryAddSingleton<PromptCheckStep>();
        services.TryAddSingleton<UpstreamStep>();
        services.TryAddSingleton<AuditStep>();
        services.TryAddSingleton<GenerationPipeline>();
        services.TryAddSingleton<PromptTokenizers>();
        services.TryAddSingleton<PromptTokenCounter>();
        services.TryAddSingleton<ContextWindowCheck>();
        services.TryAddSingleton<GenerationHandler>();
        services.AddMetrics();
        services.TryAddSingleton<GatewayMetrics>();
        services.AddModerationSeam();
        services.AddGatewayHealth();
        services.AddGatewayTelemetry(configuration);
        services.AddGatewayCache(configuration);
        services.AddGatewayAuthentication(configuration);
        services.AddGatewayPolicies(configuration);
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<GatewayOptions>>((kestrel, gateway) =>
            kestrel.Limits.MaxRequestBodySize = gateway.Value.MaxRequestBodyBytes);
        services.AddOptions<SocketTransportOptions>().Configure<IOptions<GatewayOptions>>((transport, gateway) =>
            transport.UnsafePreferInlineScheduling = gateway.Value.Server.InlineScheduling);
        return services;
    }

    /// <summary>Maps every gateway endpoint and the error handling for unmatched routes.</summary>
    public static WebApplication MapGateway(this WebApplication app)
    {
        // Validate configuration now, so an invalid catalog or upstream set stops start-up with every error listed.
        _ = app.Services.GetRequiredService<UpstreamRegistry>();
        _ = app.Services.GetRequiredService<GuardEngineProvider>();
        CacheExtensions.LogCacheLayout(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Caching"),
            app.Services.GetRequiredService<IOptions<CacheOptions>>().Value);
        // An unexpected exception still answers in the caller's envelope (500, 9005 / internal_error), not an empty 500.
        app.UseExceptionHandler(new ExceptionHandlerOptions { ExceptionHandler = StatusCodeErrors.WriteUnhandledAsync });
        app.MapGatewayTelemetry();
        app.UseGatewayAuthentication();
        app.UseGatewayPolicies();
        app.UseStatusCodePages(StatusCodeErrors.WriteAsync);
        app.MapGeneration();
        app.MapModerations();
        app.MapGatewayHealth();
        app.MapReverseProxy();
        return app;
    }
}
