using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;

namespace Gateway.Auth;

/// <summary>Checks <c>Authorization: Bearer &lt;key&gt;</c> against the configured SHA-256 key hashes.</summary>
/// <remarks>The presented key is hashed and looked up by its hash, then the hash is compared again in constant time:
/// the lookup's timing depends only on the hash of what the caller sent, which tells the caller nothing about any
/// configured key. Keys are never stored, logged or echoed.</remarks>
public sealed class ApiKeyAuthenticator
{
    private const string Scheme = "Bearer ";
    private readonly FrozenDictionary<string, (byte[] Hash, CallerIdentity Caller)> _keys;

    /// <summary>Builds the lookup from validated options.</summary>
    public ApiKeyAuthenticator(AuthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Enabled = options.Mode == AuthMode.ApiKeys;
        _keys = options.Keys.ToFrozenDictionary(
            k => k.Sha256!.ToUpperInvariant(),
            k => (Convert.FromHexString(k.Sha256!), new CallerIdentity(k.Tenant, k.Name)),
            StringComparer.Ordinal);
        Tenants = options.Keys.Select(k => k.Tenant!).Distinct(StringComparer.Ordinal).Count();
    }

    /// <summary>Whether calls need a key.</summary>
    public bool Enabled { get; }

    /// <summary>How many keys are configured.</summary>
    public int KeyCount => _keys.Count;

    /// <summary>How many tenants the keys map to.</summary>
    public int Tenants { get; }

    /// <summary>The caller for an <c>Authorization</c> header value, or null when it holds no bearer token or an
    /// unknown one.</summary>
    public CallerIdentity? Authenticate(string? authorization)
    {
        if (authorization is null || authorization.Length <= Scheme.Length
            || !authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var key = authorization.AsSpan(Scheme.Length).Trim();
        if (key.IsEmpty || key.Length > 1024)
        {
            return null;
        }
        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(key.Length)];
        var length = Encoding.UTF8.GetBytes(key, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..length], hash);
        CryptographicOperations.ZeroMemory(utf8);
        return _keys.TryGetValue(Convert.ToHexString(hash), out var entry) && CryptographicOperations.FixedTimeEquals(hash, entry.Hash)
            ? entry.Caller
            : null;
    }
}
