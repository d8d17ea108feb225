using System.Collections.Frozen;
using Gateway.Upstreams;
using Microsoft.Extensions.Configuration;

namespace Gateway.Proxy;

/// <summary>Replaces the gateway's configured credentials in upstream text before it is relayed to a client, so an
/// upstream that echoes its <c>Authorization</c> header cannot leak the gateway's token (docs/adr/002).</summary>
internal sealed class SecretRedactor
{
    /// <summary>What stands in for a credential.</summary>
    public const string Placeholder = "[redacted]";

    // Shorter values are not treated as secrets: replacing them would garble ordinary words and numbers.
    private const int MinSecretLength = 4;

    // Configuration keys (last segment) whose values are credentials wherever they appear: upstream and guard
    // tokens, and header values configured under a header's own name.
    private static readonly FrozenSet<string> SecretKeys = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "ApiToken", "ApiKey", "Api-Key", "X-Api-Key", "Authorization", "Proxy-Authorization", "X-Auth-Key",
        "Token", "AccessToken", "BearerToken", "Secret", "ClientSecret", "Password");

    // Headers whose values are credentials when a YARP transform sets them ({"RequestHeader": name, "Set": value}).
    private static readonly FrozenSet<string> SecretHeaders = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "Authorization", "Proxy-Authorization", "Api-Key", "X-Api-Key", "X-Auth-Key", "Cookie");

    private readonly string[] _secrets;

    /// <summary>Creates a redactor for the given credential values; a value with an auth scheme
    /// (<c>Bearer abc</c>) also redacts the bare credential.</summary>
    public SecretRedactor(IEnumerable<string?> secrets)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var secret in secrets)
        {
            Add(set, secret);
            if (secret?.Trim() is { } trimmed && trimmed.IndexOf(' ', StringComparison.Ordinal) is > 0 and var space)
            {
                Add(set, trimmed[(space + 1)..]);
            }
        }
        // Longest first, so a token that contains another is replaced whole.
        _secrets = [.. set.OrderByDescending(s => s.Length).ThenBy(s => s, StringComparer.Ordinal)];
    }

    /// <summary>How many distinct values are redacted.</summary>
    public int Count => _secrets.Length;

    /// <summary>Collects every upstream's <see cref="UpstreamOptions.ApiToken"/>, every configuration value under a
    /// credential key (<c>ApiToken</c>, <c>ApiKey</c>, <c>Authorization</c>, ...) and every credential header value set
    /// by a YARP transform.</summary>
    public static SecretRedactor FromConfiguration(IConfiguration configuration, IEnumerable<UpstreamOptions> upstreams)
    {
        var secrets = new List<string?>(upstreams.Select(u => u.ApiToken));
        foreach (var (key, value) in configuration.AsEnumerable())
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }
            var colon = key.LastIndexOf(':');
            var name = key[(colon + 1)..];
            if (SecretKeys.Contains(name))
            {
                secrets.Add(value);
            }
            else if (colon > 0 && name.Equals("RequestHeader", StringComparison.OrdinalIgnoreCase) && SecretHeaders.Contains(value))
            {
                var transform = configuration.GetSection(key[..colon]);
                secrets.Add(transform["Set"]);
                secrets.Add(transform["Append"]);
            }
        }
        return new SecretRedactor(secrets);
    }

    /// <summary>Returns <paramref name="text"/> with every configured credential replaced by <see cref="Placeholder"/>.</summary>
    public string Redact(string text)
    {
        foreach (var secret in _secrets)
        {
            text = text.Replace(secret, Placeholder, StringComparison.Ordinal);
        }
        return text;
    }

    private static void Add(HashSet<string> set, string? secret)
    {
        if (secret?.Trim() is { Length: >= MinSecretLength } trimmed)
        {
            set.Add(trimmed);
        }
    }
}
