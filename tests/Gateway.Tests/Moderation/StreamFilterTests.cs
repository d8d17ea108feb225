using Gateway.Moderation;
using Gateway.Upstreams;
using Microsoft.Extensions.Time.Testing;
using Policies;
using Policies.Evaluation;
using Policies.Model;

namespace Gateway.Tests.Moderation;

/// <summary>The stream filter alone: which events it releases when, with checks the test completes by hand and a fake
/// clock for the hold time bound.</summary>
public sealed class StreamFilterTests
{
    private static readonly ModerationDecision Pass = ModerationDecision.Allow with { Policy = "p", Outcome = "allowed" };
    private static readonly ModerationDecision Unsafe = ModerationDecision.Block("unsafe", ["S1"]) with { Policy = "p", Outcome = "blocked" };

    private readonly FakeTimeProvider _time = new();
    private readonly List<(ResponseSnapshot Snapshot, TaskCompletionSource<ModerationDecision> Verdict)> _checks = [];

    [Fact]
    public void Windowed_HoldsTextUntilACheckCoveringItPassed_ThenReleasesAllButTheHoldBack()
    {
        using var filter = Filter(new StreamingSettings { Window = 10, HoldBack = 4, CloseAtSentenceEnd = false });
        var output = new List<string>();

        filter.Add(["e1"], "abcde", []);
        Assert.Equal(StreamFilterState.Open, filter.Advance(output));
        Assert.Empty(_checks);
        filter.Add(["e2"], "fgh", []);
        filter.Add(["e3"], "ij", []);

        Assert.Single(_checks);
        Assert.Equal("abcdefghij", _checks[0].Snapshot.Text);
        filter.Advance(output);
        Assert.Empty(output);

        _checks[0].Verdict.SetResult(Pass);
        filter.Advance(output);
        // Covered 10; the last 4 stay until the next check: e1 ends at 5 and e2 at 8 > 6.
        Assert.Equal(["e1"], output);
    }

    [Fact]
    public void TheStreamsEnd_StartsTheLastCheck_AndItReleasesEverything()
    {
        using var filter = Filter(new StreamingSettings { Window = 10, HoldBack = 4, CloseAtSentenceEnd = false });
        var output = new List<string>();
        filter.Add(["e1"], "0123456789", []);
        _checks[0].Verdict.SetResult(Pass);
        filter.Add(["e2"], "tail", []);
        filter.Add(["done"], "", []);
        filter.Complete();

        // The first check passed, but all of e1 lies within the hold-back of its 10 units.
        Assert.Equal(StreamFilterState.Open, filter.Advance(output));
        Assert.Empty(output);
        Assert.Equal(2, _checks.Count);
        Assert.Equal("0123456789tail", _checks[1].Snapshot.Text);

        _checks[1].Verdict.SetResult(Pass);
        Assert.Equal(StreamFilterState.Finished, filter.Advance(output));
        Assert.Equal(["e1", "e2", "done"], output);
    }

    [Fact]
    public void APhraseCutByAWindowsEnd_IsNeverReleased_BeforeACheckSawItWhole()
    {
        using var filter = Filter(new StreamingSettings { Window = 12, HoldBack = 3, CloseAtSentenceEnd = false });
        var output = new List<string>();
        filter.Add(["safe"], "safe text", []);
        filter.Add(["bad-1"], "BAD", []);
        _checks[0].Verdict.SetResult(Pass);
        filter.Advance(output);
        Assert.Equal(["safe"], output);

        filter.Add(["bad-2"], "PHRASE and more", []);
        Assert.Equal(2, _checks.Count);
        Assert.Contains("BADPHRASE", _checks[1].Snapshot.Text, StringComparison.Ordinal);
        _checks[1].Verdict.SetResult(Unsafe);

        Assert.Equal(StreamFilterState.Stopped, filter.Advance(output));
        Assert.Equal(["safe"], output);
        Assert.Same(Unsafe, filter.Terminal);
    }

    [Fact]
    public void ChecksRunWhileTheUpstreamIsRead_UpToTheLimit_AndALaterCheckCoversTheWindowsThatWaited()
    {
        using var filter = Filter(new StreamingSettings { Window = 4, HoldBack = 0, CloseAtSentenceEnd = false }, maxChecksInFlight: 2);
        var output = new List<string>();
        filter.Add(["a"], "aaaa", []);
        filter.Add(["b"], "bbbb", []);
        filter.Add(["c"], "cccc", []);
        filter.Add(["d"], "dddd", []);

        // Two run; the windows of c and d wait for a free slot.
        Assert.Equal(2, _checks.Count);
        _checks[1].Verdict.SetResult(Pass);
        filter.Advance(output);
        Assert.Empty(output);

        _checks[0].Verdict.SetResult(Pass);
        filter.Advance(output);
        Assert.Equal(["a", "b"], output);
        Assert.Equal(3, _checks.Count);
        Assert.Equal("aaaabbbbccccdddd", _checks[2].Snapshot.Text);
        Assert.Equal(3, filter.CheckCount);
    }

    [Fact]
    public void ASentenceEnd_ClosesTheWindowEarly_OnceItHoldsTheMinimum()
    {
        using var filter = Filter(new StreamingSettings { Window = 100, MinWindow = 5, HoldBack = 0 });
        filter.Add(["a"], "Hi. ", []);
        Assert.Empty(_checks);
        filter.Add(["b"], "Then more.", []);
        Assert.Single(_checks);
    }

    [Theory]
    [InlineData("end.", true)]
    [InlineData("end. next", true)]
    [InlineData("line\nbreak", true)]
    [InlineData("why?", true)]
    [InlineData("3.14", false)]
    [InlineData("e.g.x", false)]
    [InlineData("no end", false)]
    [InlineData("終わり。", true)]
    public void SentenceEnds(string text, bool ends) => Assert.Equal(ends, StreamFilter.EndsSentence(text));

    [Fact]
    public void Buffered_ChecksOnceAtTheEnd()
    {
        using var filter = Filter(new StreamingSettings { Mode = StreamingMode.Buffered, Window = 4, HoldBack = 0 });
        var output = new List<string>();
        filter.Add(["a"], "aaaa. ", []);
        filter.Add(["b"], "bbbb. ", []);
        Assert.Empty(_checks);
        filter.Complete();

        Assert.Single(_checks);
        _checks[0].Verdict.SetResult(Pass);
        Assert.Equal(StreamFilterState.Finished, filter.Advance(output));
        Assert.Equal(["a", "b"], output);
    }

    [Fact]
    public async Task Audit_ReleasesAtOnce_AndRecordsTheChecks()
    {
        using var filter = Filter(new StreamingSettings { Mode = StreamingMode.Audit, Window = 4, HoldBack = 0 });
        var output = new List<string>();
        filter.Add(["a"], "aaaa", []);
        Assert.Equal(StreamFilterState.Open, filter.Advance(output));
        Assert.Equal(["a"], output);
        filter.Complete();
        Assert.Equal(StreamFilterState.Finished, filter.Advance(output));

        _checks[0].Verdict.SetResult(Unsafe);
        await filter.DrainAsync();
        Assert.Equal("blocked", filter.Outcome?.Outcome);
    }

    [Theory]
    [InlineData(FailMode.Closed)]
    [InlineData(FailMode.Open)]
    public void MoreHeldBytesThanTheBound_AppliesTheFailMode(FailMode failMode)
    {
        using var filter = Filter(new StreamingSettings { Window = 1000, HoldBack = 0, CloseAtSentenceEnd = false, MaxHeldBytes = 10 }, failMode: failMode);
        var output = new List<string>();
        filter.Add(["12345"], "x", []);
        filter.Add(["67890"], "y", []);
        filter.Add(["é"], "z", []);

        var state = filter.Advance(output);
        if (failMode == FailMode.Closed)
        {
            Assert.Equal(StreamFilterState.Stopped, state);
            Assert.Empty(output);
            Assert.Equal("fail-closed", filter.Terminal?.Outcome);
        }
        else
        {
            Assert.Equal(StreamFilterState.Open, state);
            Assert.Equal(["12345", "67890", "é"], output);
            Assert.Equal("fail-open", filter.Outcome?.Outcome);
        }
    }

    [Fact]
    public async Task TextHeldLongerThanTheBound_FailsClosed_WhenTheClockPassesIt()
    {
        using var filter = Filter(new StreamingSettings { Window = 1000, HoldBack = 0, CloseAtSentenceEnd = false, MaxHoldTime = TimeSpan.FromSeconds(5) });
        var output = new List<string>();
        filter.Add(["a"], "a", []);
        var deadline = filter.HoldDeadline!;
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(deadline.IsCompleted);
        Assert.Equal(StreamFilterState.Open, filter.Advance(output));

        _time.Advance(TimeSpan.FromSeconds(1));
        await deadline;
        Assert.Equal(StreamFilterState.Stopped, filter.Advance(output));
        Assert.Equal("fail-closed", filter.Terminal?.Outcome);
        Assert.Empty(output);
    }

    [Fact]
    public void ToolCallFragments_AreJudgedAsTheyGrow()
    {
        using var filter = Filter(new StreamingSettings { Window = 8, HoldBack = 0, CloseAtSentenceEnd = false });
        filter.Add(["t1"], "", [new ToolCallDelta(0, "run", "{\"cmd\":")]);
        filter.Add(["t2"], "", [new ToolCallDelta(0, null, "\"rm -rf\"}")]);

        Assert.Equal(2, _checks.Count);
        var first = Assert.Single(_checks[0].Snapshot.ToolCalls);
        Assert.Equal("run", first.Name);
        Assert.Equal("{\"cmd\":", first.Arguments);
        Assert.Empty(_checks[0].Snapshot.Text);
        Assert.Equal("{\"cmd\":\"rm -rf\"}", Assert.Single(_checks[1].Snapshot.ToolCalls).Arguments);
    }

    [Fact]
    public void ACheckThatThrows_GetsTheFailMode_NeverAPass()
    {
        using var filter = Filter(new StreamingSettings { Window = 2, HoldBack = 0, CloseAtSentenceEnd = false });
        var output = new List<string>();
        filter.Add(["a"], "ab", []);
        _checks[0].Verdict.SetException(new InvalidOperationException("bug"));

        Assert.Equal(StreamFilterState.Stopped, filter.Advance(output));
        Assert.Equal("fail-closed", filter.Terminal?.Outcome);
    }

    [Fact]
    public void Unchecked_RelaysEveryEventAtOnce()
    {
        using var filter = new StreamFilter(StreamModeration.None, _time, 2, CancellationToken.None);
        var output = new List<string>();
        filter.Add(["a"], "text", []);
        filter.Complete();
        Assert.Equal(StreamFilterState.Finished, filter.Advance(output));
        Assert.Equal(["a"], output);
        Assert.Equal(0, filter.CheckCount);
    }

    private StreamFilter Filter(StreamingSettings settings, int maxChecksInFlight = 2, FailMode failMode = FailMode.Closed)
    {
        var plan = new StreamModeration(
            "p",
            settings,
            (snapshot, _) =>
            {
                var verdict = new TaskCompletionSource<ModerationDecision>(TaskCreationOptions.RunContinuationsAsynchronously);
                _checks.Add((snapshot, verdict));
                return verdict.Task;
            },
            failure => failMode == FailMode.Open
                ? ModerationDecision.Allow with { Policy = "p", Outcome = "fail-open" }
                : ModerationDecision.Block(failure.ToString()) with { Policy = "p", Outcome = "fail-closed", GuardUnavailable = true });
        return new StreamFilter(plan, _time, maxChecksInFlight, CancellationToken.None);
    }
}
