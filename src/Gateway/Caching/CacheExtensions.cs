using Gateway.Telemetry;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Gateway.Caching;

/// <summary>Registers the cache store: <see cref="HybridCache"/> over an in-memory level and, when <c>Cache:Redis</c>
/// is set, Redis through Microsoft.Extensions.Caching.StackExchangeRedis.</summary>
public static partial class CacheExtensions
{
    /// <summary>Adds <see cref="HybridCache"/> (and Redis as its second level when configured).</summary>
    public static IServiceCollection AddGatewayCache(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(CacheOptions.SectionName);
        services.Configure<CacheOptions>(section);
        var options = section.Get<CacheOptions>() ?? new CacheOptions();
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid cache configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
        }
        services.AddHybridCache(hybrid => hybrid.DefaultEntryOptions = new HybridCacheEntryOptions
        {
            Expiration = options.Expiration,
            LocalCacheExpiration = options.LocalExpiration,
        });
        // The in-memory level is bounded by the bytes of its entries, and ages on the host's clock like everything else.
        services.AddOptions<MemoryCacheOptions>().Configure<TimeProvider>((memory, time) =>
        {
            memory.SizeLimit = options.LocalSizeLimit;
            memory.Clock = new TimeProviderClock(time);
        });
        if (options.Redis is { Length: > 0 } redis)
        {
            services.AddStackExchangeRedisCache(cache =>
            {
                cache.InstanceName = options.InstanceName;
                cache.ConfigurationOptions = RedisConfiguration(redis, options.RedisTimeout);
            });
            services.TryAddSingleton(sp => new RedisCache(sp.GetRequiredService<IOptions<RedisCacheOptions>>()));
            services.Replace(ServiceDescriptor.Singleton<IDistributedCache>(sp => new GuardedDistributedCache(
                sp.GetRequiredService<RedisCache>(), options.RedisRetryInterval, sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<GatewayMetrics>(), sp.GetRequiredService<ILogger<GuardedDistributedCache>>())));
        }
        services.TryAddSingleton<VerdictCache>();
        return services;
    }

    /// <summary>StackExchange.Redis settings for a cache that must never hold a request up: start without Redis,
    /// keep reconnecting in the background, and time out operations quickly. StackExchange.Redis notices that an
    /// asynchronous operation timed out on its heartbeat, once a second by default: a hung Redis would cost a check up
    /// to a second more than the timeout. The heartbeat runs at a quarter of the timeout instead (50 ms at least).</summary>
    internal static ConfigurationOptions RedisConfiguration(string configuration, TimeSpan timeout)
    {
        var redis = ConfigurationOptions.Parse(configuration);
        var ms = (int)Math.Max(1, timeout.TotalMilliseconds);
        redis.AbortOnConnectFail = false;
        redis.ConnectTimeout = ms;
        redis.SyncTimeout = ms;
        redis.AsyncTimeout = ms;
        redis.HeartbeatInterval = TimeSpan.FromMilliseconds(Math.Clamp(ms / 4.0, 50, 1000));
        return redis;
    }

    /// <summary>Logs which levels the cache has, once at start-up.</summary>
    public static void LogCacheLayout(ILogger logger, CacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Redis is { Length: > 0 } redis)
        {
            LogWithRedis(logger, ConfigurationOptions.Parse(redis).EndPoints.Select(e => e.ToString()).FirstOrDefault() ?? redis);
        }
        else
        {
            LogMemoryOnly(logger);
        }
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Cache: in memory, with Redis at {Endpoint} as the shared second level")]
    private static partial void LogWithRedis(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Cache: in memory only (Cache:Redis is not set); replicas do not share entries")]
    private static partial void LogMemoryOnly(ILogger logger);
}
