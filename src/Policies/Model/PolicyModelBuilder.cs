using System.Text.RegularExpressions;
using Policies.Config;
using Policies.Validation;

namespace Policies.Model;

/// <summary>
/// Validates policy documents against the engines that exist and builds the snapshot; every problem is collected with
/// its file, path, bad value and fix before anything is refused.
/// </summary>
internal sealed partial class PolicyModelBuilder(PolicyEngines engines)
{
    private const int MaxNameLength = 100;

    private readonly List<PolicyError> _errors = [];

    // Policies whose selector lost an invalid entry: they could look broader than written, so no overlap is reported for them.
    private readonly HashSet<PolicyModel> _badSelectors = [];

    public List<PolicyError> Errors => _errors;

    public PolicySetModel? Build(IReadOnlyList<PolicyDocumentConfig> documents, DateTimeOffset loadedAt, bool isBuiltInDefault = false)
    {
        var policies = new List<PolicyModel>();
        var names = new Dictionary<string, PolicyModel>(StringComparer.OrdinalIgnoreCase);
        foreach (var document in documents)
        {
            ArgumentNullException.ThrowIfNull(document);
            for (var i = 0; i < document.Policies.Count; i++)
            {
                var policy = BuildPolicy(document.Policies[i], document.File, $"policies[{i}]");
                if (policy.Name.Length > 0 && !names.TryAdd(policy.Name, policy))
                {
                    var first = names[policy.Name];
                    Add(document.File, $"policies[{i}].name", PolicyError.Quote(policy.Name),
                        $"The name is already used by {Describe(first)} (names ignore case and are unique across all files).",
                        "Rename one of the two policies.");
                }

                policies.Add(policy);
            }
        }

        var entries = policies.Where(p => !_badSelectors.Contains(p)).SelectMany(p => p.Match.Models.Count == 0
            ? [new SelectorEntry(p, null)]
            : p.Match.Models.Select(m => new SelectorEntry(p, m))).ToList();
        CheckSelectors(entries);
        if (_errors.Count > 0)
        {
            return null;
        }

        var files = documents.Where(d => d.File is not null).Select(d => d.File!).ToArray();
        return new PolicySetModel(policies, new PolicySelector(entries), files, loadedAt, isBuiltInDefault);
    }

    private PolicyModel BuildPolicy(PolicyConfig config, string? file, string path)
    {
        var name = config.Name?.Trim() ?? string.Empty;
        if (name.Length == 0)
        {
            Add(file, $"{path}.name", null, "The policy has no name.", "Give it a unique name, e.g. 'name: default'.");
        }
        else if (name.Length > MaxNameLength || !NamePattern().IsMatch(name))
        {
            Add(file, $"{path}.name", PolicyError.Quote(name),
                "A name is letters, digits, '.', '-' and '_', starting with a letter or digit, at most 100 characters.",
                "Rename the policy, e.g. 'tenant-acme'.");
        }

        var errorsBefore = _errors.Count;
        var match = BuildMatch(config.Match, file, $"{path}.match");
        var selectorValid = _errors.Count == errorsBefore;
        var policy = new PolicyModel(
            name,
            config.Description,
            match,
            config.Priority ?? 0,
            config.Locked ?? false,
            BuildRole(config.Prompt, PolicyRole.Prompt, name, file, $"{path}.prompt"),
            BuildRole(config.Response, PolicyRole.Response, name, file, $"{path}.response"),
            file,
            path);
        if (!selectorValid)
        {
            _badSelectors.Add(policy);
        }

        return policy;
    }

    private PolicyMatch BuildMatch(PolicyMatchConfig? config, string? file, string path)
    {
        if (config is null)
        {
            return PolicyMatch.Any;
        }

        var routes = new List<string>();
        for (var i = 0; i < config.Routes.Count; i++)
        {
            var route = config.Routes[i]?.Trim() ?? string.Empty;
            if (PolicyRoutes.All.TryGetValue(route, out var known))
            {
                routes.Add(known);
            }
            else
            {
                Add(file, $"{path}.routes[{i}]", PolicyError.Quote(config.Routes[i]), "Unknown route.",
                    $"Use one of: {string.Join(", ", PolicyRoutes.All.Order(StringComparer.Ordinal))}; or remove 'routes' to match every route.");
            }
        }

        var models = new List<string>();
        var anyModel = false;
        for (var i = 0; i < config.Models.Count; i++)
        {
            var model = config.Models[i];
            if (string.IsNullOrWhiteSpace(model) || model.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                Add(file, $"{path}.models[{i}]", PolicyError.Quote(model), "A model id or glob must be non-empty, without spaces.",
                    "Write a model id such as '@cf/meta/llama-3-8b-instruct' or a glob such as '@cf/meta/*'.");
            }
            else if (model.All(c => c == Glob.Star))
            {
                anyModel = true;
            }
            else
            {
                models.Add(model);
            }
        }

        var tenants = new List<string>();
        for (var i = 0; i < config.Tenants.Count; i++)
        {
            var tenant = config.Tenants[i];
            if (string.IsNullOrWhiteSpace(tenant) || tenant.Trim().Length != tenant.Length || tenant.Contains(Glob.Star, StringComparison.Ordinal))
            {
                Add(file, $"{path}.tenants[{i}]", PolicyError.Quote(tenant),
                    "A tenant id must be non-empty, without surrounding spaces; tenants are matched exactly (no globs).",
                    "Write the tenant id exactly as the API key store gives it.");
            }
            else
            {
                tenants.Add(tenant);
            }
        }

        return new PolicyMatch(
            [.. routes.Distinct(StringComparer.OrdinalIgnoreCase)],
            anyModel ? [] : [.. models.Distinct(StringComparer.OrdinalIgnoreCase)],
            [.. tenants.Distinct(StringComparer.Ordinal)]);
    }

    private void Add(string? file, string path, string? value, string problem, string fix) =>
        _errors.Add(new PolicyError(file, path, value, problem, fix));

    private static string Describe(PolicyModel policy) =>
        policy.File is null ? $"'{policy.Name}' at {policy.Path}" : $"'{policy.Name}' at {policy.File}: {policy.Path}";

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
