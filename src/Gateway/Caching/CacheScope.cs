namespace Gateway.Caching;

/// <summary>Who shares cached verdicts (docs/caching.md#scope).</summary>
public enum CacheScope
{
    /// <summary>Each tenant has its own entries: no tenant can learn, by timing, what another sent.</summary>
    Tenant,

    /// <summary>Every tenant shares entries: more hits, but a hit tells one tenant that someone sent the same text.</summary>
    Global,
}
