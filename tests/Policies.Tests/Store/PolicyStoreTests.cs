using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Policies.Store;
using Policies.Validation;

namespace Policies.Tests.Store;

public sealed class PolicyStoreTests : IDisposable
{
    private const string V1 = "policies: [{ name: v1, prompt: { defaultAction: block } }]";
    private const string V2 = "policies: [{ name: v2, prompt: { defaultAction: flag } }]";
    private const string Invalid = "policies: [{ name: v3, prompt: { engine: nope, threshold: 2 } }]";

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly ListLogger<PolicyStore> _log = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Reload_InvalidFile_KeepsTheLastGoodPolicies_AndReportsWhy()
    {
        _dir.Write("p.yaml", V1);
        using var store = Store();
        var good = store.Current;

        _time.Advance(TimeSpan.FromMinutes(1));
        _dir.Write("p.yaml", Invalid);
        var result = await store.ReloadAsync();

        Assert.False(result.Applied);
        Assert.Same(good, store.Current);
        Assert.Same(good, result.Current);
        Assert.Equal(["p.yaml: policies[0].prompt.engine", "p.yaml: policies[0].prompt.threshold"], result.Errors.Select(e => e.Where));
        var status = store.Status;
        Assert.False(status.IsCurrent);
        Assert.Equal(1, status.FailedReloads);
        Assert.Equal(good.LoadedAt, status.LastGoodLoadedAt);
        Assert.Equal(_time.GetUtcNow(), status.LastAttemptAt);
        Assert.Contains("p.yaml: policies[0].prompt.engine: Unknown guard engine (got 'nope').", status.LastError, StringComparison.Ordinal);
        Assert.Equal(status.LastError, status.ToDetails()["lastError"]);
        Assert.Contains(_log.Entries, e => e.Id.Id == 5003 && e.Level == LogLevel.Error && e.Message.Contains("Unknown guard engine", StringComparison.Ordinal));
        Assert.Equal("v1", store.Select(PolicyRoutes.WorkersAi, "m", null).Name);

        _time.Advance(TimeSpan.FromMinutes(1));
        _dir.Write("p.yaml", V2);
        result = await store.ReloadAsync();

        Assert.True(result.Applied);
        Assert.Equal("v2", store.Select(PolicyRoutes.WorkersAi, "m", null).Name);
        status = store.Status;
        Assert.True(status.IsCurrent);
        Assert.Null(status.LastError);
        Assert.Empty(status.Errors);
        Assert.Equal((1, 1), (status.Reloads, status.FailedReloads));
        Assert.Equal(_time.GetUtcNow(), status.LastGoodLoadedAt);
        Assert.False(status.ToDetails().ContainsKey("lastError"));
    }

    [Fact]
    public async Task Reload_DeletedFile_KeepsTheLastGoodPolicies()
    {
        var path = _dir.Write("p.yaml", V1);
        using var store = Store();

        File.Delete(path);
        var result = await store.ReloadAsync();

        Assert.False(result.Applied);
        Assert.Equal("v1", store.Current.Policies[0].Name);
        Assert.StartsWith("The file does not exist", Assert.Single(result.Errors).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_InvalidFile_Throws_WithEveryProblem()
    {
        _dir.Write("p.yaml", Invalid);

        var ex = Assert.Throws<PolicyValidationException>(() => Store());

        Assert.Equal(2, ex.Errors.Count);
        Assert.StartsWith("The policy files have 2 problems:\n- p.yaml: policies[0].prompt.engine", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Start_MissingFile_Throws()
    {
        var ex = Assert.Throws<PolicyValidationException>(() => Store("absent.yaml"));

        Assert.Equal("absent.yaml", Assert.Single(ex.Errors).File);
    }

    [Fact]
    public void Start_WithoutFiles_UsesTheBuiltInPolicy_AndSaysSo()
    {
        using var store = new PolicyStore(new PolicyOptions(), TestEngines.Default, _time, _log);

        Assert.True(store.Current.IsBuiltInDefault);
        Assert.True(store.Status.IsBuiltInDefault);
        Assert.Equal("(none: built-in policy)", store.Status.ToDetails()["files"]);
        Assert.Contains(_log.Entries, e => e.Id.Id == 5002 && e.Level == LogLevel.Warning);
    }

    [Fact]
    public async Task ConcurrentReads_DuringSwaps_AlwaysSeeOneWholeSnapshot()
    {
        _dir.Write("p.yaml", V1);
        using var store = Store();
        using var stop = new CancellationTokenSource();
        using var started = new CountdownEvent(4);
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            var reads = 0;
            while (!stop.IsCancellationRequested || reads == 0)
            {
                var set = store.Current;
                var policy = set.Select(PolicyRoutes.OpenAiChat, "@cf/meta/x", null);
                // Each version pairs a name with an action; a torn read would mix them.
                var action = policy.Prompt.Categories["O1"].Action;
                Assert.True((policy.Name, action) is ("v1", PolicyAction.Block) or ("v2", PolicyAction.Flag), $"{policy.Name} {action}");
                Assert.Same(policy, set.ByName[policy.Name]);
                if (reads++ == 0)
                {
                    started.Signal();
                }
            }

            return reads;
        })).ToArray();

        Assert.True(started.Wait(TimeSpan.FromSeconds(30)));
        for (var i = 0; i < 40; i++)
        {
            _dir.Write("p.yaml", i % 2 == 0 ? V2 : V1);
            Assert.True((await store.ReloadAsync()).Applied);
        }

        await stop.CancelAsync();
        var counts = await Task.WhenAll(readers);

        Assert.All(counts, c => Assert.True(c > 0));
        Assert.Equal(40, store.Status.Reloads);
        Assert.Equal("v1", store.Current.Policies[0].Name);
    }

    [Fact]
    public async Task ConcurrentReloads_AreSerialized()
    {
        _dir.Write("p.yaml", V1);
        using var store = Store();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.ReloadAsync())));

        Assert.All(results, r => Assert.True(r.Applied));
        Assert.Equal(8, store.Status.Reloads);
    }

    [Fact]
    public void ChangeEvents_ReloadOnce_AfterTheQuietDelay()
    {
        _dir.Write("p.yaml", V1);
        using var store = Store();

        _dir.Write("p.yaml", V2);
        store.NotifyChanged();
        _time.Advance(TimeSpan.FromMilliseconds(200));
        store.NotifyChanged();
        _time.Advance(TimeSpan.FromMilliseconds(200));
        store.NotifyChanged();
        _time.Advance(TimeSpan.FromMilliseconds(299));

        Assert.Equal(0, store.Status.Reloads);
        Assert.Equal("v1", store.Current.Policies[0].Name);

        _time.Advance(TimeSpan.FromMilliseconds(1));

        // The timer callback runs the reload inline on the fake clock: the load is synchronous file work.
        Assert.Equal(1, store.Status.Reloads);
        Assert.Equal("v2", store.Current.Policies[0].Name);

        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, store.Status.Reloads);
    }

    [Fact]
    public async Task Watcher_ReloadsWhenAFileChanges()
    {
        // Liveness only: real file events and a real clock, with a generous deadline.
        _dir.Write("p.yaml", V1);
        var options = new PolicyOptions { BaseDirectory = _dir.Path, ReloadDelay = TimeSpan.FromMilliseconds(50) };
        options.Files.Add("p.yaml");
        using var store = new PolicyStore(options, TestEngines.Default, TimeProvider.System, _log);

        Assert.Contains(_log.Entries, e => e.Id.Id == 5007);
        _dir.Write("p.yaml", V2);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (store.Current.Policies[0].Name != "v2" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal("v2", store.Current.Policies[0].Name);
    }

    [Fact]
    public void Options_BindFromConfiguration()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Policies:Files:0"] = "policies/base.yaml",
                ["Policies:Files:1"] = "policies/tenants.json",
                ["Policies:Watch"] = "false",
                ["Policies:ReloadDelay"] = "00:00:01",
            })
            .Build();
        var options = new PolicyOptions();

        configuration.GetSection(PolicyOptions.SectionName).Bind(options);

        Assert.Equal(["policies/base.yaml", "policies/tenants.json"], options.Files);
        Assert.False(options.Watch);
        Assert.Equal(TimeSpan.FromSeconds(1), options.ReloadDelay);
    }

    private PolicyStore Store(string file = "p.yaml")
    {
        var options = new PolicyOptions { BaseDirectory = _dir.Path, Watch = false };
        options.Files.Add(file);
        return new PolicyStore(options, TestEngines.Default, _time, _log);
    }
}
