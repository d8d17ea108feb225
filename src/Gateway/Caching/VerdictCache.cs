using System.Diagnostics;
using System.Text.Json;
using Gateway.Telemetry;
using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;
using Guard.Verdicts;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Caching;

/// <summary>How a check used the verdict cache.</summary>
public enum CacheUse
{
    /// <summary>The cache is off for verdicts.</summary>
    Off,

    /// <summary>The verdict came from the cache (or from a concurrent identical check's guard call).</summary>
    Hit,

    /// <summary>The guard was called.</summary>
    Miss,
}

/// <summary>Guard verdicts through <see cref="HybridCache"/>: memory first, then Redis shared by every replica, then
/// the guard; concurrent identical checks in one process share one guard call. Only safe and unsafe verdicts are
/// stored (an unparseable answer or an engine error is never cached), under a key that hashes everything that can
/// change them (<see cref="VerdictCacheKey"/>). A cache fault is a miss, never a failed check.</summary>
internal sealed partial class VerdictCache(HybridCache? cache, IOptions<CacheOptions> options, GatewayMetrics? metrics, ILogger<VerdictCache> logger)
{
    private readonly bool _enabled = cache is not null && options.Value.Verdicts;
    private readonly CacheScope _scope = options.Value.Scope;

    /// <summary>A cache that caches nothing (every check calls the guard).</summary>
    public static VerdictCache Off { get; } = new(null, Options.Create(new CacheOptions { Verdicts = false }), null,
        Microsoft.Extensions.Logging.Abstractions.NullLogger<VerdictCache>.Instance);

    /// <summary>Whether verdicts are cached.</summary>
    public bool Enabled => _enabled;

    /// <summary>Classifies through the cache.</summary>
    /// <param name="engine">The engine that judges a miss.</param>
    /// <param name="conversation">The conversation, with the taxonomy it is judged under when it is not the engine's.</param>
    /// <param name="tenant">The caller's tenant (the scope of its entries unless the cache is global).</param>
    /// <param name="cancellationToken">Ends this caller's wait; a guard call shared with other callers goes on for them.</param>
    /// <exception cref="GuardEngineException">The guard call failed; nothing was cached.</exception>
    public async Task<(GuardVerdict Verdict, CacheUse Use)> ClassifyAsync(
        IGuardEngine engine, GuardConversation conversation, string? tenant, CancellationToken cancellationToken)
    {
        if (!_enabled)
        {
            return (await engine.ClassifyAsync(conversation, cancellationToken), CacheUse.Off);
        }
        var taxonomy = conversation.Taxonomy ?? engine.Taxonomy;
        var key = VerdictCacheKey.For(engine.CacheIdentity, engine.GetPromptFormatDigest(conversation.Taxonomy, conversation.Role),
            _scope == CacheScope.Global ? "*" : "tenant:" + tenant, conversation);
        var call = new GuardCall(engine, conversation);
        CachedVerdict stored;
        try
        {
            stored = await cache!.GetOrCreateAsync(key, call, static async (call, token) =>
            {
                // HybridCache runs the factory without the caller's execution context; the guard call's own spans
                // (the remote engine's HTTP call) stay children of the check that started it.
                Activity.Current ??= call.Parent;
                var verdict = await call.Engine.ClassifyAsync(call.Conversation, token);
                call.Fresh = verdict;
                return verdict.Status == GuardVerdictStatus.Unparseable ? throw new UncacheableVerdictException(verdict) : CachedVerdict.From(verdict);
            }, cancellationToken: cancellationToken);
        }
        catch (UncacheableVerdictException ex)
        {
            metrics?.VerdictCacheLookup(CacheUse.Miss);
            return (ex.Verdict, CacheUse.Miss);
        }
        catch (JsonException)
        {
            // An entry in the store that is not ours (not even JSON of a verdict): judge again and replace it.
            return await JudgeAgainAsync(engine, conversation, key, cancellationToken);
        }
        if (call.Fresh is { } fresh)
        {
            metrics?.VerdictCacheLookup(CacheUse.Miss);
            return (fresh, CacheUse.Miss);
        }
        if (stored.Restore(taxonomy) is not { } restored)
        {
            return await JudgeAgainAsync(engine, conversation, key, cancellationToken);
        }
        metrics?.VerdictCacheLookup(CacheUse.Hit);
        // Engines with one identity share entries; the verdict names the engine that served this request.
        return (restored with { Engine = engine.Name }, CacheUse.Hit);
    }

    /// <summary>A stored value that is not a verdict this gateway wrote: a miss; the guard judges, and its verdict
    /// replaces the value (otherwise every later check of the conversation would read it and judge again).</summary>
    private async Task<(GuardVerdict Verdict, CacheUse Use)> JudgeAgainAsync(
        IGuardEngine engine, GuardConversation conversation, string key, CancellationToken cancellationToken)
    {
        LogForeignEntry(logger);
        metrics?.VerdictCacheLookup(CacheUse.Miss);
        var verdict = await engine.ClassifyAsync(conversation, cancellationToken);
        if (verdict.Status != GuardVerdictStatus.Unparseable)
        {
            await cache!.SetAsync(key, CachedVerdict.From(verdict), cancellationToken: cancellationToken);
        }
        return (verdict, CacheUse.Miss);
    }

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning, Message = "A cached verdict could not be read (an entry this gateway did not write, or a damaged one); the guard judged again")]
    private static partial void LogForeignEntry(ILogger logger);

    private sealed class GuardCall(IGuardEngine engine, GuardConversation conversation)
    {
        public IGuardEngine Engine { get; } = engine;

        public GuardConversation Conversation { get; } = conversation;

        // The span of the check that started the call.
        public Activity? Parent { get; } = Activity.Current;

        // Set when this caller's own factory ran: a miss. Callers that joined another's call see it unset.
        public GuardVerdict? Fresh { get; set; }
    }

    private sealed class UncacheableVerdictException(GuardVerdict verdict) : Exception("unparseable verdicts are not cached")
    {
        public GuardVerdict Verdict { get; } = verdict;
    }
}
