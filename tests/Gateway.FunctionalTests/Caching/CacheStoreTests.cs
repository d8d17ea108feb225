using Gateway.Caching;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.FunctionalTests.Caching;

/// <summary>The cache store under the gateway: HybridCache with Redis as the second level, against a real Redis.</summary>
public sealed class CacheStoreTests
{
    [Fact]
    public async Task TwoGateways_ShareEntries_ThroughOneRedis()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var first = await GatewayServer.StartAsync(WithRedis(redis.Configuration));
        await using var second = await GatewayServer.StartAsync(WithRedis(redis.Configuration));
        var key = "shared-" + Guid.NewGuid().ToString("N");

        await first.Services.GetRequiredService<HybridCache>().SetAsync(key, "written by the first gateway");
        var calls = 0;
        var read = await second.Services.GetRequiredService<HybridCache>().GetOrCreateAsync(key, _ =>
        {
            calls++;
            return ValueTask.FromResult("computed by the second gateway");
        });

        Assert.Equal("written by the first gateway", read);
        Assert.Equal(0, calls);
        Assert.IsType<GuardedDistributedCache>(second.Services.GetRequiredService<IDistributedCache>());
        Assert.Contains(CapturingLoggerProvider.Instance.Lines, l => l.Contains("Redis at 127.0.0.1:" + redis.Port, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutRedis_TheGatewayRunsOnTheMemoryLevel_AndSaysSo()
    {
        await using var gateway = await GatewayServer.StartAsync();
        var cache = gateway.Services.GetRequiredService<HybridCache>();
        var calls = 0;

        for (var i = 0; i < 3; i++)
        {
            await cache.GetOrCreateAsync("memory-only", _ => ValueTask.FromResult(++calls));
        }

        Assert.Equal(1, calls);
        Assert.False(gateway.Services.GetService<IDistributedCache>() is GuardedDistributedCache);
        Assert.Contains(CapturingLoggerProvider.Instance.Lines, l => l.Contains("in memory only (Cache:Redis is not set)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RedisDown_TheGatewayStarts_AndTheCacheStillAnswersFromMemory()
    {
        // A Redis that is not there: the server was started to find a free port, then stopped.
        string configuration;
        await using (var stopped = await RedisServer.StartAsync())
        {
            configuration = stopped.Configuration;
        }
        await using var gateway = await GatewayServer.StartAsync(WithRedis(configuration));
        var cache = gateway.Services.GetRequiredService<HybridCache>();
        var calls = 0;

        var first = await cache.GetOrCreateAsync("redis-down", _ => ValueTask.FromResult(++calls));
        var second = await cache.GetOrCreateAsync("redis-down", _ => ValueTask.FromResult(++calls));

        Assert.Equal(1, first);
        Assert.Equal(1, second);
        using var health = await gateway.Client.GetAsync("/healthz");
        Assert.True(health.IsSuccessStatusCode);
    }

    private static readonly string SharedInstance = "test-" + Guid.NewGuid().ToString("N")[..8] + ":";

    private static Dictionary<string, string?> WithRedis(string configuration) => new()
    {
        ["Cache:Redis"] = configuration,
        ["Cache:InstanceName"] = SharedInstance,
    };
}
