using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>One measurement of <c>gateway.moderation.decisions</c>.</summary>
public sealed record ModerationDecisionCount(string Policy, string Role, string Outcome, long Value);

/// <summary>Listens to one gateway's <c>gateway.moderation.decisions</c> counter (meter <c>Gateway</c>); other gateways
/// running in the same process are not heard.</summary>
public sealed class ModerationDecisionListener : IDisposable
{
    private readonly MeterListener _listener = new();

    /// <summary>Starts listening to <paramref name="gateway"/>'s meter.</summary>
    public ModerationDecisionListener(GatewayServer gateway)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        var factory = gateway.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Gateway" && ReferenceEquals(instrument.Meter.Scope, factory)
                && instrument.Name == "gateway.moderation.decisions")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            string? policy = null, role = null, outcome = null;
            foreach (var tag in tags)
            {
                switch (tag.Key)
                {
                    case "policy":
                        policy = tag.Value as string;
                        break;
                    case "role":
                        role = tag.Value as string;
                        break;
                    case "outcome":
                        outcome = tag.Value as string;
                        break;
                }
            }
            Decisions.Enqueue(new ModerationDecisionCount(policy ?? "", role ?? "", outcome ?? "", value));
        });
        _listener.Start();
    }

    /// <summary>Every decision counted since the listener started, in order.</summary>
    public ConcurrentQueue<ModerationDecisionCount> Decisions { get; } = new();

    /// <summary>How many decisions of <paramref name="role"/> with <paramref name="outcome"/> were counted (under
    /// <paramref name="policy"/> when given).</summary>
    public long Count(string role, string outcome, string? policy = null) =>
        Decisions.Where(d => d.Role == role && d.Outcome == outcome && (policy is null || d.Policy == policy)).Sum(d => d.Value);

    public void Dispose() => _listener.Dispose();
}
