using Gateway.Guarding;
using Gateway.Health;
using Guard.Engines;
using Guard.Onnx.Engine;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Policies;
using Policies.Store;

namespace Gateway.Moderation;

/// <summary>Loads the moderation policies (<c>Policies</c>) against the configured guard engines, keeps them
/// hot-reloaded, and reports their state on <c>/readyz</c>.</summary>
public static class PolicyExtensions
{
    /// <summary>Adds the <see cref="PolicyStore"/> and its readiness check.</summary>
    public static IServiceCollection AddGatewayPolicies(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(sp =>
        {
            var options = new PolicyOptions();
            configuration.GetSection(PolicyOptions.SectionName).Bind(options);
            // Policy files named on the command line or in configuration are relative to where the gateway started.
            options.BaseDirectory ??= Environment.CurrentDirectory;
            var engines = EnginesOf(sp.GetRequiredService<GuardEngineProvider>());
            return new PolicyStore(options, engines, sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<PolicyStore>>());
        });
        services.AddHealthChecks().AddCheck<PoliciesReadyCheck>("policies", tags: ["ready"]);
        return services;
    }

    /// <summary>Loads the policies now, so an invalid file stops start-up with every error; the store starts watching
    /// the files itself when <c>Policies:Watch</c> is on.</summary>
    public static WebApplication UseGatewayPolicies(this WebApplication app)
    {
        _ = app.Services.GetRequiredService<PolicyStore>();
        return app;
    }

    /// <summary>What policies may name: every configured engine by name, with whether it reports an unsafe probability
    /// (the local engine always; an OpenAI-compatible server when log-probabilities are asked for; Workers AI never),
    /// and the default engine.</summary>
    internal static PolicyEngines EnginesOf(GuardEngineProvider guard)
    {
        if (guard.Engines.Count == 0)
        {
            return PolicyEngines.None;
        }
        var engines = guard.Engines.ToDictionary(e => e.Key, e => new PolicyEngineInfo(e.Value.Family, e.Value switch
        {
            OnnxGuardEngine => true,
            OpenAiGuardEngine openAi => openAi.ReportsUnsafeProbability,
            _ => false,
        }, e.Value.Taxonomy));
        return new PolicyEngines(engines, guard.DefaultName);
    }
}
