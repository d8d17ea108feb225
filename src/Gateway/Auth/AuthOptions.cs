using System.Globalization;

namespace Gateway.Auth;

/// <summary>Who may call the API surfaces (<c>Auth</c>).</summary>
public sealed class AuthOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Auth";

    /// <summary><see cref="AuthMode.ApiKeys"/>: every API call needs a configured key;
    /// <see cref="AuthMode.None"/>: no key is asked for (a sidecar bound to localhost, the embedded default).</summary>
    public AuthMode Mode { get; set; } = AuthMode.None;

    /// <summary>The accepted keys, stored as SHA-256 hashes, each mapped to a tenant.</summary>
    public List<ApiKeyOptions> Keys { get; set; } = [];

    /// <summary>Collects every configuration problem; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Mode == AuthMode.ApiKeys && Keys.Count == 0)
        {
            errors.Add("Auth:Mode is ApiKeys but Auth:Keys is empty: add at least one key (Auth:Keys:0:Sha256 and Auth:Keys:0:Tenant), or set Auth:Mode to None.");
        }
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < Keys.Count; i++)
        {
            var key = Keys[i];
            var path = string.Create(CultureInfo.InvariantCulture, $"Auth:Keys:{i}");
            if (key.Sha256 is not { Length: 64 } hash || !hash.All(char.IsAsciiHexDigit))
            {
                errors.Add($"{path}:Sha256 must be the 64 hexadecimal digits of the key's SHA-256 hash (printf %s \"$KEY\" | sha256sum), got '{key.Sha256}'.");
            }
            else if (!seen.TryAdd(hash, i))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"{path}:Sha256 repeats Auth:Keys:{seen[hash]}:Sha256: each key appears once."));
            }
            if (string.IsNullOrWhiteSpace(key.Tenant))
            {
                errors.Add($"{path}:Tenant must name the tenant the key belongs to.");
            }
        }
        return errors;
    }
}

/// <summary>How callers are authenticated.</summary>
public enum AuthMode
{
    /// <summary>No key is asked for.</summary>
    None,

    /// <summary><c>Authorization: Bearer &lt;key&gt;</c> with a configured key.</summary>
    ApiKeys,
}

/// <summary>One accepted API key.</summary>
public sealed class ApiKeyOptions
{
    /// <summary>The SHA-256 hash of the key, in hexadecimal; the key itself is never configured.</summary>
    public string? Sha256 { get; set; }

    /// <summary>The tenant whose policies apply to calls with this key.</summary>
    public string? Tenant { get; set; }

    /// <summary>A label for logs and audit (never the key).</summary>
    public string? Name { get; set; }
}
