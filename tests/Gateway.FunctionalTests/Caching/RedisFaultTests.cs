using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace Gateway.FunctionalTests.Caching;

/// <summary>The verdict cache against a real redis-server: two gateway processes sharing it, Redis killed and restarted
/// and paused under load, and values in it the gateway did not write. Every request must get the verdict its prompt
/// deserves (a prompt with <see cref="UnsafeMarker"/> is blocked, any other allowed), whatever Redis does.</summary>
/// <remarks>The in-process gateways of the fault tests run on a <see cref="FakeTimeProvider"/>: after a Redis failure
/// they skip Redis until the test moves the clock by the retry interval, so how many attempts can fail depends on how
/// often the test moves it, never on how fast the machine is. Waits for Redis to come back are bounded polls.</remarks>
public sealed class RedisFaultTests(ITestOutputHelper output) : IDisposable
{
    private const string Model = "ai/run/@cf/meta/llama-2-7b-chat-fp16";
    private const string UnsafeMarker = "BLOCK-7731";
    private const int Clients = 8;

    // Long guard timeouts: the fault tests move their gateways' clock, which must never time a guard call out.
    private const string PolicyFile = """
        policies:
          - name: standard
            prompt: { defaultAction: block, failMode: closed, timeout: 5m }
            response: { check: false }
        """;

    // A Redis operation may take this long before it counts as failed: far above what a loaded machine needs, so
    // that the only failures are the ones the tests cause.
    private static readonly TimeSpan RedisTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RecoveryDeadline = TimeSpan.FromSeconds(90);

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-redis-faults-").FullName;
    private readonly string _instance = "faults-" + Guid.NewGuid().ToString("N")[..8] + ":";

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task TwoGatewayProcesses_ShareVerdicts_ThroughOneRedis()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var guard = await ScriptedGuardServer.StartAsync();
        guard.Answer(UnsafeMarker, "unsafe\nS1");
        await using var upstream = await ScriptedUpstream.StartAsync();
        var config = Config(upstream, guard, redis);
        await using var inProcess = await GatewayServer.StartAsync(config);
        await using var child = await CommandLineGateway.StartAsync(config);
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);

        // Checked in this process, a hit in the other one, and the other way round (a blocked prompt). HybridCache
        // writes Redis after it answered: the second gateway asks once the entry is there.
        Assert.Equal("miss", await ExpectAsync(inProcess.Client, "shared across processes"));
        await WaitUntilAsync(async () => (await KeysAsync(connection)).Count == 1, "the first verdict reached Redis");
        Assert.Equal("hit", await ExpectAsync(child.Client, "shared across processes"));
        Assert.Equal("miss", await ExpectAsync(child.Client, $"shared and {UnsafeMarker}"));
        await WaitUntilAsync(async () => (await KeysAsync(connection)).Count == 2, "the second verdict reached Redis");
        Assert.Equal("hit", await ExpectAsync(inProcess.Client, $"shared and {UnsafeMarker}"));

        Assert.Equal(2, guard.Calls);
        // Only the allowed prompt went upstream, once through each gateway.
        Assert.All(upstream.Received, r => Assert.Contains("shared across processes", r.Body, StringComparison.Ordinal));
        Assert.Equal(2, upstream.Received.Count);
        // The child's audit record says where its verdicts came from (its console log reaches the pipe on its own time).
        await WaitUntilAsync(() => Task.FromResult(child.Events(6100).Count == 2), "the child's two audit records");
        var audit = child.Events(6100).Select(e => e.GetProperty("State").GetProperty("gateway.moderation.prompt.cache").GetString()).ToList();
        Assert.Equal(new[] { "hit", "miss" }, audit);
        await WaitUntilAsync(() => Task.FromResult(child.Events(4001).Any(e => e.GetProperty("Message").GetString()!.Contains(redis.Configuration, StringComparison.Ordinal))),
            "the child's start-up line naming the shared Redis");
    }

    [Fact]
    public async Task RedisKilledAndRestarted_UnderLoad_NoRequestFails_AndSharingResumes()
    {
        await using var redis = await RedisServer.StartProcessAsync();
        await using var guard = await ScriptedGuardServer.StartAsync();
        guard.Answer(UnsafeMarker, "unsafe\nS1");
        await using var upstream = await ScriptedUpstream.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var a = await StartOnClockAsync(Config(upstream, guard, redis), clock);
        await using var b = await StartOnClockAsync(Config(upstream, guard, redis), clock);

        const int total = 600, kill = 150, restart = 300, recover = 400;
        var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var restarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var advances = 0;
        var failures = await RunLoadAsync(total, i => SendAsync((i % 2 == 0 ? a : b).Server.Client, Prompt(i)), async i =>
        {
            switch (i)
            {
                case kill:
                    await redis.KillAsync();
                    killed.SetResult();
                    break;
                case restart:
                    await killed.Task;
                    await redis.RestartAsync();
                    restarted.SetResult();
                    break;
                case recover:
                    await restarted.Task;
                    advances = await RecoverAsync(clock, a, b);
                    break;
            }
        });

        output.WriteLine($"Redis failures: {a.RedisFailures.Total} + {b.RedisFailures.Total}; clock moved {advances} times until Redis was shared again");
        // Every request got its verdict, and sharing resumed (RecoverAsync: written by one gateway after the restart,
        // a hit on the other).
        Assert.Empty(failures);
        Assert.True(advances > 0);
        foreach (var gateway in new[] { a, b })
        {
            // One outage: logged once when Redis failed and once when it answered again, however many requests came between.
            Assert.Equal(new[] { 4004, 4005 }, gateway.Log.Sequence(4004, 4005));
            // Redis was tried at most once per request in flight each time the retry interval passed (the outage
            // began with an open window; the recovery moved the clock `advances` times).
            Assert.InRange(gateway.RedisFailures.Total, 1, (1 + advances) * 2 * (Clients + 1));
        }
    }

    [Fact]
    public async Task RedisPaused_UnderLoad_NoRequestFails_AndRedisIsTriedOncePerRetryInterval()
    {
        await using var redis = await RedisServer.StartProcessAsync();
        await using var guard = await ScriptedGuardServer.StartAsync();
        guard.Answer(UnsafeMarker, "unsafe\nS1");
        await using var upstream = await ScriptedUpstream.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var a = await StartOnClockAsync(Config(upstream, guard, redis), clock);
        await using var b = await StartOnClockAsync(Config(upstream, guard, redis), clock);

        const int total = 500, pause = 100, resume = 300, recover = 350;
        int[] retries = [150, 200, 250];
        var paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resumed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var advances = 0;
        var failures = await RunLoadAsync(total, i => SendAsync((i % 2 == 0 ? a : b).Server.Client, Prompt(i)), async i =>
        {
            if (i == pause)
            {
                await redis.PauseAsync();
                paused.SetResult();
            }
            else if (retries.Contains(i))
            {
                // The retry interval passes while Redis hangs: each gateway tries it again.
                await paused.Task;
                clock.Advance(RetryInterval);
            }
            else if (i == resume)
            {
                await paused.Task;
                await redis.ResumeAsync();
                resumed.SetResult();
            }
            else if (i == recover)
            {
                await resumed.Task;
                advances = await RecoverAsync(clock, a, b);
            }
        });

        output.WriteLine($"Redis failures: {a.RedisFailures.Total} + {b.RedisFailures.Total}; clock moved {retries.Length} times while paused, {advances} times until Redis was shared again");
        Assert.Empty(failures);
        Assert.True(advances > 0);
        // Redis was tried when the pause began and each time the clock passed the retry interval (3 times while
        // paused, `advances` times until it was shared again): in each of these windows, at most the operations of the
        // requests in flight (a read, and a write HybridCache finishes after answering) timed out, then Redis was
        // skipped, however many requests went by (200 while it was paused).
        var windows = 1 + retries.Length + advances;
        foreach (var gateway in new[] { a, b })
        {
            Assert.Equal(new[] { 4004, 4005 }, gateway.Log.Sequence(4004, 4005));
            Assert.InRange(gateway.RedisFailures.Total, 1, windows * 2 * (Clients + 1));
        }
    }

    public static TheoryData<string> Damages => new() { "garbage", "foreign-text", "foreign-object", "wrong-type" };

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task ADamagedOrForeignValueInRedis_IsAMiss_ThenReplaced(string damage)
    {
        await using var redis = await RedisServer.StartAsync();
        await using var guard = await ScriptedGuardServer.StartAsync();
        guard.Answer(UnsafeMarker, "unsafe\nS1");
        await using var upstream = await ScriptedUpstream.StartAsync();
        var config = Config(upstream, guard, redis);
        var prompt = $"judged once {UnsafeMarker}";
        await using var connection = await ConnectionMultiplexer.ConnectAsync(redis.Configuration);
        var db = connection.GetDatabase();
        await using (var writer = await GatewayServer.StartAsync(config))
        {
            Assert.Equal("miss", await ExpectAsync(writer.Client, prompt));
            await WaitUntilAsync(async () => (await KeysAsync(connection)).Count == 1, "the verdict reached Redis");
        }
        var key = Assert.Single(await KeysAsync(connection));
        // What RedisCache keeps: a hash whose "data" field holds HybridCache's payload.
        Assert.Contains(await db.HashGetAllAsync(key), e => e.Name == "data");

        await DamageAsync(damage, db, key, redis);
        var damaged = await db.KeyTypeAsync(key) == RedisType.Hash ? (byte[]?)await db.HashGetAsync(key, "data") : null;

        // A gateway that never saw the prompt reads the damaged value: the guard judges again, the prompt stays blocked,
        // and the value is replaced.
        await using (var reader = await GatewayServer.StartAsync(config))
        {
            using var redisFailures = new GatewayCounter(reader, "gateway.cache.redis.failures");
            Assert.Equal("miss", await ExpectAsync(reader.Client, prompt));
            await WaitUntilAsync(async () => await db.KeyTypeAsync(key) == RedisType.Hash
                && (byte[]?)await db.HashGetAsync(key, "data") is { } data && (damaged is null || !data.AsSpan().SequenceEqual(damaged)),
                "the damaged value was replaced");
            // A foreign value is not Redis failing: Redis stays in use.
            Assert.Equal(0, redisFailures.Total);
        }
        Assert.Equal(2, guard.Calls);
        // A third gateway reads the replacement as a verdict: no guard call.
        await using (var third = await GatewayServer.StartAsync(config))
        {
            Assert.Equal("hit", await ExpectAsync(third.Client, prompt));
        }
        Assert.Equal(2, guard.Calls);
        Assert.Empty(upstream.Received);
    }

    private async Task DamageAsync(string damage, IDatabase db, RedisKey key, RedisServer redis)
    {
        switch (damage)
        {
            case "garbage":
                await db.HashSetAsync(key, "data", (byte[])[0xde, 0xad, 0xbe, 0xef, 0x00, 0x7b, 0x22, 0x75, 0x22, 0xff]);
                break;
            case "foreign-text":
            case "foreign-object":
                // Another application's HybridCache writing its own value under the same key: a well-formed payload.
                var services = new ServiceCollection();
                services.AddHybridCache();
                services.AddStackExchangeRedisCache(o =>
                {
                    o.Configuration = redis.Configuration;
                    o.InstanceName = _instance;
                });
                await using (var provider = services.BuildServiceProvider())
                {
                    var foreign = provider.GetRequiredService<HybridCache>();
                    var name = ((string)key!)[_instance.Length..];
                    if (damage == "foreign-text")
                    {
                        await foreign.SetAsync(name, "not a verdict");
                    }
                    else
                    {
                        await foreign.SetAsync(name, new ForeignValue("someone else's", 42));
                    }
                }
                break;
            case "wrong-type":
                await db.KeyDeleteAsync(key);
                await db.StringSetAsync(key, "a plain string where a hash belongs", TimeSpan.FromMinutes(10));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(damage), damage, null);
        }
    }

    /// <summary>The prompt of request <paramref name="i"/>: a third are new (a miss everywhere), the rest come from a pool
    /// of 16 that repeats (hits); some of both carry the unsafe marker.</summary>
    private static string Prompt(int i) => i % 3 == 0
        ? $"fresh prompt {i}{(i % 9 == 0 ? " " + UnsafeMarker : "")}"
        : $"pooled prompt {i % 16}{(i % 16 % 4 == 0 ? " " + UnsafeMarker : "")}";

    /// <summary>Until a prompt written through <paramref name="writer"/> is a hit on <paramref name="reader"/> (Redis
    /// answers both again), moves the clock by the retry interval and tries again; how many times it moved it. Each
    /// round writes a new prompt and reads the one written the round before (HybridCache writes Redis after it
    /// answered), so the reader never sees a prompt twice.</summary>
    private static async Task<int> RecoverAsync(FakeTimeProvider clock, ClockedGateway writer, ClockedGateway reader)
    {
        var deadline = Stopwatch.StartNew();
        for (var n = 1; ; n++)
        {
            clock.Advance(RetryInterval);
            await ExpectAsync(writer.Server.Client, $"probe {n} after the fault");
            if (n > 1 && await ExpectAsync(reader.Server.Client, $"probe {n - 1} after the fault") == "hit")
            {
                return n;
            }
            Assert.True(deadline.Elapsed < RecoveryDeadline, $"Redis was not shared again after {n} retry intervals");
            await Task.Delay(50);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails after a generous deadline.</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < RecoveryDeadline, $"Not seen: {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>Runs <paramref name="total"/> requests from <see cref="Clients"/> concurrent clients; each client draws the
    /// next request number, runs <paramref name="at"/> for it (the faults, in that client while the others go on), then
    /// sends it. Returns every failure.</summary>
    private static async Task<List<string>> RunLoadAsync(int total, Func<int, Task<string?>> send, Func<int, Task> at)
    {
        var failures = new ConcurrentQueue<string>();
        var next = -1;
        async Task ClientAsync()
        {
            for (int i; (i = Interlocked.Increment(ref next)) < total;)
            {
                await at(i);
                try
                {
                    if (await send(i) is { } failure)
                    {
                        failures.Enqueue($"#{i} {failure}");
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    failures.Enqueue($"#{i} {ex.GetType().Name}: {ex.Message}");
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => Task.Run(ClientAsync)));
        return [.. failures];
    }

    /// <summary>Sends <paramref name="prompt"/>; its cache use when the answer is the one it deserves, else fails.</summary>
    private static async Task<string?> ExpectAsync(HttpClient client, string prompt)
    {
        using var response = await client.SendAsync(ProxyRoundTripTests.Post(Model, JsonSerializer.Serialize(new { prompt })));
        var failure = Failure(response, prompt);
        Assert.True(failure is null, failure);
        return Header(response, "x-moderation-prompt-cache");
    }

    private static async Task<string?> SendAsync(HttpClient client, string prompt)
    {
        using var response = await client.SendAsync(ProxyRoundTripTests.Post(Model, JsonSerializer.Serialize(new { prompt })));
        return Failure(response, prompt);
    }

    /// <summary>What is wrong with the answer to <paramref name="prompt"/>, or null: a prompt with the unsafe marker is
    /// blocked (400, category S1), any other allowed (200); either says whether the cache answered.</summary>
    private static string? Failure(HttpResponseMessage response, string prompt)
    {
        var blocked = prompt.Contains(UnsafeMarker, StringComparison.Ordinal);
        var outcome = Header(response, "x-moderation-prompt");
        var categories = Header(response, "x-moderation-prompt-categories");
        var cache = Header(response, "x-moderation-prompt-cache");
        var right = blocked
            ? response.StatusCode == HttpStatusCode.BadRequest && outcome == "blocked" && categories == "S1"
            : response.StatusCode == HttpStatusCode.OK && outcome == "allowed";
        return right && cache is "hit" or "miss"
            ? null
            : $"'{prompt}': HTTP {(int)response.StatusCode}, prompt {outcome ?? "-"} [{categories}], cache {cache ?? "-"}";
    }

    private async Task<IReadOnlyList<RedisKey>> KeysAsync(ConnectionMultiplexer connection)
    {
        var keys = new List<RedisKey>();
        await foreach (var key in connection.GetServer(connection.GetEndPoints()[0]).KeysAsync(pattern: _instance + "*"))
        {
            keys.Add(key);
        }
        return keys;
    }

    private Dictionary<string, string?> Config(ScriptedUpstream upstream, ScriptedGuardServer guard, RedisServer redis)
    {
        var file = Path.Combine(_directory, "policies.yaml");
        File.WriteAllText(file, PolicyFile);
        var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
        foreach (var (key, value) in ScriptedGuardServer.GuardWith(guard))
        {
            config[key] = value;
        }
        config["Guard:Remote:Timeout"] = "00:05:00";
        // No retry: a retry's back-off would wait on a clock the test holds still.
        config["Guard:Remote:MaxAttempts"] = "1";
        config["Policies:Files:0"] = file;
        config["Policies:Watch"] = "false";
        config["Cache:Redis"] = redis.Configuration;
        config["Cache:InstanceName"] = _instance;
        config["Cache:RedisTimeout"] = RedisTimeout.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        config["Cache:RedisRetryInterval"] = RetryInterval.ToString("c", System.Globalization.CultureInfo.InvariantCulture);
        return config;
    }

    private static async Task<ClockedGateway> StartOnClockAsync(Dictionary<string, string?> config, FakeTimeProvider clock)
    {
        var log = new RecordingLoggerProvider();
        var server = await GatewayServer.StartAsync(config, services =>
        {
            services.AddSingleton<TimeProvider>(clock);
            services.AddSingleton<ILoggerProvider>(log);
        });
        return new ClockedGateway(server, log, new GatewayCounter(server, "gateway.cache.redis.failures"));
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    /// <summary>An in-process gateway on the test's clock, with its own log and Redis failure count.</summary>
    private sealed record ClockedGateway(GatewayServer Server, RecordingLoggerProvider Log, GatewayCounter RedisFailures) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            RedisFailures.Dispose();
            await Server.DisposeAsync();
        }
    }

    private sealed record ForeignValue(string Owner, int Number);
}
