using System.Diagnostics.Metrics;
using Gateway.Moderation;
using Gateway.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Policies.Model;

namespace Gateway.Tests.Telemetry;

/// <summary><c>gateway.stream.hold.duration</c>: each event the stream filter releases is measured from when it was
/// added, on the filter's clock (a fake one here).</summary>
public sealed class StreamHoldTimeTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FakeTimeProvider _time = new();
    private readonly List<(double Seconds, string? Mode)> _held = [];
    private readonly MeterListener _listener = new();

    public StreamHoldTimeTests()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();
        Metrics = new GatewayMetrics(factory);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name == SemanticNames.Metrics.StreamHoldDuration)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
            _held.Add((value, tags.ToArray().Single(t => t.Key == "mode").Value as string)));
        _listener.Start();
    }

    private GatewayMetrics Metrics { get; }

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    [Fact]
    public void ReleasedEvents_AreMeasuredFromWhenTheyWereAdded()
    {
        var checks = new List<TaskCompletionSource<ModerationDecision>>();
        var plan = new StreamModeration("p", new StreamingSettings { Window = 4, HoldBack = 0, CloseAtSentenceEnd = false }, (_, _) =>
        {
            var verdict = new TaskCompletionSource<ModerationDecision>(TaskCreationOptions.RunContinuationsAsynchronously);
            checks.Add(verdict);
            return verdict.Task;
        }, _ => ModerationDecision.Allow);
        using var filter = new StreamFilter(plan, _time, 2, CancellationToken.None) { Metrics = Metrics };
        var output = new List<string>();

        filter.Add(["e1"], "ab", []);
        _time.Advance(TimeSpan.FromSeconds(2));
        filter.Add(["e2"], "cd", []);
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Single(checks);
        Assert.Empty(_held);

        checks[0].SetResult(ModerationDecision.Allow with { Policy = "p", Outcome = "allowed" });
        filter.Advance(output);

        Assert.Equal(["e1", "e2"], output);
        Assert.Equal([(5.0, "windowed"), (3.0, "windowed")], _held);
    }

    [Fact]
    public void WithoutAListener_NothingIsMeasured()
    {
        _listener.Dispose();
        var plan = new StreamModeration("p", new StreamingSettings { Window = 2, HoldBack = 0, CloseAtSentenceEnd = false },
            (_, _) => Task.FromResult(ModerationDecision.Allow with { Outcome = "allowed" }), _ => ModerationDecision.Allow);
        using var filter = new StreamFilter(plan, _time, 2, CancellationToken.None) { Metrics = Metrics };
        var output = new List<string>();

        filter.Add(["e1"], "ab", []);
        filter.Advance(output);

        Assert.Equal(["e1"], output);
        Assert.False(Metrics.HoldDurationEnabled);
        Assert.Empty(_held);
    }
}
