using System.Diagnostics.Metrics;
using Gateway.Caching;
using Gateway.Telemetry;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace Gateway.Tests.Caching;

/// <summary>Redis behind the guard, with a hand-driven Redis and clock: a failure makes the cache skip Redis for the
/// retry interval, and a value of another Redis type is a miss that a write replaces, not an outage.</summary>
public sealed class GuardedDistributedCacheTests : IDisposable
{
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(5);

    private readonly FakeTimeProvider _time = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MeterListener _listener = new();
    private readonly HandRedis _redis = new();
    private long _failures;

    public GuardedDistributedCacheTests()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name == "gateway.cache.redis.failures")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _failures, value));
        _listener.Start();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    [Fact]
    public async Task AFailedRead_IsAMiss_ThenRedisIsSkippedForTheRetryInterval()
    {
        var cache = Cache();
        _redis.Down = true;

        Assert.Null(await cache.GetAsync("k"));
        Assert.Equal(1, Interlocked.Read(ref _failures));
        Assert.True(cache.Skipping);
        // Skipped: no operation reaches Redis until the interval has passed.
        _time.Advance(RetryInterval - TimeSpan.FromTicks(1));
        Assert.Null(await cache.GetAsync("k"));
        await cache.SetAsync("k", [1], new DistributedCacheEntryOptions());
        Assert.Equal(1, _redis.Calls);

        _redis.Down = false;
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.False(cache.Skipping);
        await cache.SetAsync("k", [1], new DistributedCacheEntryOptions());
        Assert.Equal([1], await cache.GetAsync("k"));
        Assert.Equal(3, _redis.Calls);
        Assert.Equal(1, Interlocked.Read(ref _failures));
    }

    [Fact]
    public async Task AValueOfAnotherRedisType_IsAMiss_AndAWriteReplacesIt()
    {
        var cache = Cache();
        _redis.WrongType.Add("k");

        Assert.Null(await cache.GetAsync("k"));
        await cache.SetAsync("k", [7], new DistributedCacheEntryOptions());

        Assert.Equal([7], await cache.GetAsync("k"));
        Assert.False(cache.Skipping);
        Assert.Equal(0, Interlocked.Read(ref _failures));
    }

    [Theory]
    [InlineData(250, 62.5)]
    [InlineData(100, 50)]
    [InlineData(5000, 1000)]
    public void StackExchangeRedis_LooksForTimedOutOperationsFourTimesPerTimeout(int timeoutMs, double heartbeatMs)
    {
        var redis = CacheExtensions.RedisConfiguration("127.0.0.1:6379", TimeSpan.FromMilliseconds(timeoutMs));

        Assert.Equal(timeoutMs, redis.AsyncTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(heartbeatMs), redis.HeartbeatInterval);
        Assert.False(redis.AbortOnConnectFail);
    }

    private GuardedDistributedCache Cache() => new(
        _redis, RetryInterval, _time, new GatewayMetrics(_services.GetRequiredService<IMeterFactory>()),
        NullLogger<GuardedDistributedCache>.Instance);

    /// <summary>A Redis the test drives: it fails when told, and answers WRONGTYPE for keys of another type, as Redis
    /// does for a hash command on a string (which DEL removes).</summary>
    private sealed class HandRedis : IDistributedCache
    {
        private readonly Dictionary<string, byte[]> _values = [];

        public bool Down { get; set; }

        public HashSet<string> WrongType { get; } = [];

        public int Calls { get; private set; }

        public byte[]? Get(string key) => throw new NotSupportedException();

        public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
        {
            await Enter(key);
            return _values.GetValueOrDefault(key);
        }

        public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => throw new NotSupportedException();

        public async Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
        {
            await Enter(key);
            _values[key] = value;
        }

        public void Refresh(string key) => throw new NotSupportedException();

        public Task RefreshAsync(string key, CancellationToken token = default) => throw new NotSupportedException();

        public void Remove(string key) => throw new NotSupportedException();

        public Task RemoveAsync(string key, CancellationToken token = default)
        {
            Calls++;
            WrongType.Remove(key);
            _values.Remove(key);
            return Task.CompletedTask;
        }

        private Task Enter(string key)
        {
            Calls++;
            if (Down)
            {
                return Task.FromException(new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "no connection"));
            }
            return WrongType.Contains(key)
                ? Task.FromException(new RedisServerException(RedisErrorKind.WrongType, CommandFlags.None, "WRONGTYPE Operation against a key holding the wrong kind of value"))
                : Task.CompletedTask;
        }
    }
}
