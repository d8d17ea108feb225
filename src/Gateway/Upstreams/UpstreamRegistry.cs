using System.Collections.Frozen;
using System.Text.RegularExpressions;
using Gateway.Catalog;

namespace Gateway.Upstreams;

/// <summary>Resolves each catalog model to its upstream once, at start-up, from the routing rules.</summary>
public sealed class UpstreamRegistry
{
    // Timers take at most uint.MaxValue - 1 milliseconds (about 49 days).
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly FrozenDictionary<string, Upstream> _byModel;

    private UpstreamRegistry(FrozenDictionary<string, Upstream> byModel, IReadOnlyList<Upstream> upstreams)
    {
        _byModel = byModel;
        Upstreams = upstreams;
    }

    /// <summary>Every configured upstream.</summary>
    public IReadOnlyList<Upstream> Upstreams { get; }

    /// <summary>The upstream serving a catalog model.</summary>
    public Upstream Resolve(ModelInfo model) => _byModel[model.Id];

    /// <summary>Whether the model is the Llama Guard the gateway serves itself (the in-process guard upstream): it is
    /// the check, so neither the prompt check nor the context window applies to it again.</summary>
    public bool ServesGuard(ModelInfo model) => Resolve(model).Options.Kind == UpstreamKind.Guard;

    /// <summary>Builds the registry, collecting every configuration error before failing.</summary>
    /// <param name="upstreams">Configured upstreams by name.</param>
    /// <param name="routes">Routing rules in order.</param>
    /// <param name="catalog">The model catalog.</param>
    /// <param name="clusterExists">Tells whether a YARP cluster id is configured.</param>
    public static UpstreamRegistry Build(
        IReadOnlyDictionary<string, UpstreamOptions> upstreams, IReadOnlyList<RouteRuleOptions> routes,
        ModelCatalog catalog, Func<string, bool> clusterExists)
    {
        var errors = new List<string>();
        var built = new Dictionary<string, Upstream>(StringComparer.Ordinal);
        foreach (var (name, options) in upstreams)
        {
            var where = $"Gateway:Upstreams:{name}";
            IUpstreamProtocol protocol = options.Kind switch
            {
                UpstreamKind.WorkersAi => new WorkersAiProtocol(),
                UpstreamKind.Demo or UpstreamKind.Guard => new OpenAiProtocol(options.Kind),
                _ => new OpenAiProtocol(),
            };
            var upstream = new Upstream(name, options, protocol);
            if (options.Kind == UpstreamKind.WorkersAi && string.IsNullOrWhiteSpace(options.AccountId))
            {
                errors.Add($"{where}: a WorkersAi upstream needs 'AccountId' (the Cloudflare account the gateway calls with).");
            }
            if (!options.Kind.IsInProcess() && !clusterExists(upstream.ClusterId))
            {
                errors.Add($"{where}: YARP cluster '{upstream.ClusterId}' is not configured; add ReverseProxy:Clusters:{upstream.ClusterId} with its destinations, or set 'Cluster'.");
            }
            if (!options.LoraModelFormat.Contains("{lora}", StringComparison.Ordinal))
            {
                errors.Add($"{where}: 'LoraModelFormat' ('{options.LoraModelFormat}') must contain '{{lora}}'.");
            }
            CheckTimeout(errors, where, nameof(UpstreamOptions.ResponseTimeout), options.ResponseTimeout);
            CheckTimeout(errors, where, nameof(UpstreamOptions.ResponseBodyTimeout), upstream.ResponseBodyTimeout);
            CheckTimeout(errors, where, nameof(UpstreamOptions.StreamIdleTimeout), options.StreamIdleTimeout);
            built[name] = upstream;
        }
        var rules = new List<(Regex Pattern, string Upstream)>();
        for (var i = 0; i < routes.Count; i++)
        {
            var rule = routes[i];
            if (!built.ContainsKey(rule.Upstream))
            {
                errors.Add($"Gateway:Routes:{i}: upstream '{rule.Upstream}' is not defined under Gateway:Upstreams.");
                continue;
            }
            var pattern = "^" + Regex.Escape(rule.Models).Replace("\\*", ".*", StringComparison.Ordinal) + "$";
            rules.Add((new Regex(pattern, RegexOptions.CultureInvariant), rule.Upstream));
        }
        var byModel = new Dictionary<string, Upstream>(StringComparer.Ordinal);
        foreach (var model in catalog.Models)
        {
            var match = rules.FirstOrDefault(r => r.Pattern.IsMatch(model.Id));
            if (match.Upstream is null)
            {
                errors.Add($"Model '{model.Id}' matches no rule in Gateway:Routes; add a rule (for example Models: \"*\") that names an upstream.");
                continue;
            }
            byModel[model.Id] = built[match.Upstream];
        }
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid upstream configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
        }
        return new UpstreamRegistry(byModel.ToFrozenDictionary(StringComparer.Ordinal), [.. built.Values]);
    }

    private static void CheckTimeout(List<string> errors, string where, string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero || value > MaxTimeout)
        {
            errors.Add($"{where}: '{key}' ({value}) must be positive and at most {MaxTimeout.TotalDays:0} days.");
        }
    }
}
