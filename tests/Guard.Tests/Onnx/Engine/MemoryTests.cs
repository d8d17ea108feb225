using System.Diagnostics;
using Guard.Conversations;
using Xunit.Abstractions;

namespace Guard.Tests.Onnx.Engine;

/// <summary>Thousands of calls leave managed and native memory where it was after warm-up.</summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class MemoryTests(TinyModelFixture fixture, ITestOutputHelper output)
{
    private const int Calls = 2000;

    [Fact]
    public async Task Memory_IsSteadyAcrossThousandsOfCalls()
    {
        using var engine = fixture.CreateEngine(o => o.MaxConcurrency = 4);
        var conversations = Conversations.All().ToArray();

        // Warm-up: ONNX Runtime's arena and the pools reach their working size.
        await RunAsync(engine, conversations, 200);
        var managedBefore = ManagedAfterCollection();
        var (privateBefore, rssBefore) = NativeMemory();

        await RunAsync(engine, conversations, Calls);
        var managedAfter = ManagedAfterCollection();
        var (privateAfter, rssAfter) = NativeMemory();

        output.WriteLine($"managed: {managedBefore / 1024} KiB -> {managedAfter / 1024} KiB; private: {privateBefore >> 20} MiB -> {privateAfter >> 20} MiB; working set: {rssBefore >> 20} MiB -> {rssAfter >> 20} MiB");
        Assert.Equal(200 + Calls, engine.Statistics.Calls);
        Assert.Equal(0, engine.Statistics.Failures);
        // Generous bounds: a leak of one logits buffer (128 KB) or one KV cache per call would be 250 MB or more.
        Assert.True(managedAfter - managedBefore < 16L << 20, $"managed heap grew by {(managedAfter - managedBefore) / 1024} KiB over {Calls} calls");
        Assert.True(privateAfter - privateBefore < 128L << 20, $"private bytes grew by {(privateAfter - privateBefore) >> 20} MiB over {Calls} calls");
        Assert.True(rssAfter - rssBefore < 128L << 20, $"the working set grew by {(rssAfter - rssBefore) >> 20} MiB over {Calls} calls");
    }

    private static async Task RunAsync(Guard.Onnx.Engine.OnnxGuardEngine engine, GuardConversation[] conversations, int calls)
    {
        var tasks = new List<Task>(calls);
        for (var i = 0; i < calls; i++)
        {
            tasks.Add(engine.ClassifyAsync(conversations[i % conversations.Length], CancellationToken.None).AsTask());
        }

        await Task.WhenAll(tasks);
    }

    private static long ManagedAfterCollection()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static (long Private, long WorkingSet) NativeMemory()
    {
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        return (process.PrivateMemorySize64, process.WorkingSet64);
    }
}
