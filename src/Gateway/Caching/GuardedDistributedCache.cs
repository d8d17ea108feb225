using Gateway.Telemetry;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Gateway.Caching;

/// <summary>Redis as the cache's second level, kept off the critical path when it fails: a failed or timed-out
/// operation is a miss (reads) or skipped (writes), and for <see cref="CacheOptions.RedisRetryInterval"/> after it
/// every operation is, without touching Redis; then one operation tries again. A Redis outage thus costs at most one
/// timeout per interval, and the in-memory level keeps answering. Each transition is logged once; every failure is
/// counted (<c>gateway.cache.redis.failures</c>). A key that holds another Redis type than the hash the cache writes
/// (a foreign value) is no Redis failure: reading it is a miss, and writing replaces it.</summary>
internal sealed partial class GuardedDistributedCache(
    IDistributedCache inner, TimeSpan retryInterval, TimeProvider time, GatewayMetrics metrics, ILogger<GuardedDistributedCache> logger)
    : IDistributedCache
{
    private long _retryAt;
    private int _down;

    /// <summary>Whether Redis is being skipped after a failure.</summary>
    public bool Skipping => Volatile.Read(ref _down) == 1 && time.GetTimestamp() < Volatile.Read(ref _retryAt);

    public byte[]? Get(string key) => Skipping ? null : Guard("get", () =>
    {
        try
        {
            return inner.Get(key);
        }
        catch (RedisServerException ex) when (IsWrongType(ex))
        {
            return null;
        }
    }, null);

    public Task<byte[]?> GetAsync(string key, CancellationToken token = default) =>
        Skipping ? Task.FromResult<byte[]?>(null) : GuardAsync("get", async () =>
        {
            try
            {
                return await inner.GetAsync(key, token);
            }
            catch (RedisServerException ex) when (IsWrongType(ex))
            {
                return null;
            }
        }, null, token);

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options)
    {
        if (!Skipping)
        {
            Guard("set", () =>
            {
                try
                {
                    inner.Set(key, value, options);
                }
                catch (RedisServerException ex) when (IsWrongType(ex))
                {
                    inner.Remove(key);
                    inner.Set(key, value, options);
                }
                return true;
            }, false);
        }
    }

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default) =>
        Skipping ? Task.CompletedTask : GuardAsync("set", async () =>
        {
            try
            {
                await inner.SetAsync(key, value, options, token);
            }
            catch (RedisServerException ex) when (IsWrongType(ex))
            {
                await inner.RemoveAsync(key, token);
                await inner.SetAsync(key, value, options, token);
            }
            return true;
        }, false, token);

    public void Refresh(string key)
    {
        if (!Skipping)
        {
            Guard("refresh", () => { inner.Refresh(key); return true; }, false);
        }
    }

    public Task RefreshAsync(string key, CancellationToken token = default) =>
        Skipping ? Task.CompletedTask : GuardAsync("refresh", async () => { await inner.RefreshAsync(key, token); return true; }, false, token);

    public void Remove(string key)
    {
        if (!Skipping)
        {
            Guard("remove", () => { inner.Remove(key); return true; }, false);
        }
    }

    public Task RemoveAsync(string key, CancellationToken token = default) =>
        Skipping ? Task.CompletedTask : GuardAsync("remove", async () => { await inner.RemoveAsync(key, token); return true; }, false, token);

    // Redis answered, about one key: "WRONGTYPE Operation against a key holding the wrong kind of value".
    private static bool IsWrongType(RedisServerException ex) =>
        ex.Kind == RedisErrorKind.WrongType || ex.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal);

    private T Guard<T>(string operation, Func<T> call, T fallback)
    {
        try
        {
            var result = call();
            Succeeded();
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Failed(operation, ex);
            return fallback;
        }
    }

    private async Task<T> GuardAsync<T>(string operation, Func<Task<T>> call, T fallback, CancellationToken token)
    {
        try
        {
            var result = await call();
            Succeeded();
            return result;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !token.IsCancellationRequested)
        {
            Failed(operation, ex);
            return fallback;
        }
    }

    private void Succeeded()
    {
        if (Interlocked.Exchange(ref _down, 0) == 1)
        {
            LogBack(logger);
        }
    }

    private void Failed(string operation, Exception ex)
    {
        metrics.RedisFailed(operation);
        Volatile.Write(ref _retryAt, time.GetTimestamp() + (long)(retryInterval.TotalSeconds * time.TimestampFrequency));
        if (Interlocked.Exchange(ref _down, 1) == 0)
        {
            LogDown(logger, operation, ex.GetType().Name, ex.Message, retryInterval.TotalSeconds);
        }
    }

    [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "Redis {Operation} failed ({ErrorType}: {Error}); the cache answers from memory alone and tries Redis again every {RetrySeconds} s")]
    private static partial void LogDown(ILogger logger, string operation, string errorType, string error, double retrySeconds);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "Redis answers again; the cache's shared level is back")]
    private static partial void LogBack(ILogger logger);
}
