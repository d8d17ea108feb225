namespace Gateway.Caching;

/// <summary>The shared cache store (<c>Cache</c>): HybridCache with an in-memory first level and, when
/// <see cref="Redis"/> is set, Redis as the second level shared by every replica.</summary>
public sealed class CacheOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Cache";

    /// <summary>A StackExchange.Redis configuration string (<c>redis:6379</c>, <c>host:port,password=...</c>);
    /// unset: the first level only.</summary>
    public string? Redis { get; set; }

    /// <summary>Prefix of every key the gateway writes in Redis.</summary>
    public string InstanceName { get; set; } = "gateway:";

    /// <summary>How long an entry lives in Redis.</summary>
    public TimeSpan Expiration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How long an entry lives in the in-memory level.</summary>
    public TimeSpan LocalExpiration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Time allowed to connect to Redis and for one Redis operation; a slow or absent Redis costs at most
    /// this much (and a quarter more, the client's timeout check interval) before the gateway carries on with the
    /// in-memory level.</summary>
    public TimeSpan RedisTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Whether guard verdicts are cached (default on).</summary>
    public bool Verdicts { get; set; } = true;

    /// <summary>Who shares cached verdicts: each tenant alone (default), or everyone (docs/caching.md#scope).</summary>
    public CacheScope Scope { get; set; } = CacheScope.Tenant;

    /// <summary>The most memory the in-memory level holds, in bytes of stored entries (a verdict takes about 100).</summary>
    public long LocalSizeLimit { get; set; } = 64L << 20;

    /// <summary>After a Redis failure, how long the gateway uses the in-memory level alone before it tries Redis again.</summary>
    public TimeSpan RedisRetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Collects every configuration problem; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Expiration <= TimeSpan.Zero)
        {
            errors.Add($"Cache:Expiration must be positive, got {Expiration}.");
        }
        if (LocalExpiration <= TimeSpan.Zero || LocalExpiration > Expiration)
        {
            errors.Add($"Cache:LocalExpiration must be positive and at most Cache:Expiration ({Expiration}), got {LocalExpiration}.");
        }
        if (RedisTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Cache:RedisTimeout must be positive, got {RedisTimeout}.");
        }
        if (LocalSizeLimit < 1024)
        {
            errors.Add($"Cache:LocalSizeLimit must be at least 1024 bytes, got {LocalSizeLimit}.");
        }
        if (RedisRetryInterval <= TimeSpan.Zero)
        {
            errors.Add($"Cache:RedisRetryInterval must be positive, got {RedisRetryInterval}.");
        }
        return errors;
    }
}
