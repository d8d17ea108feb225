using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>Sums one counter of one gateway (meter <c>Gateway</c>, the gateway's own meter factory); other gateways
/// running in the same process are not heard.</summary>
public sealed class GatewayCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private long _total;

    /// <summary>Starts listening to <paramref name="instrument"/> of <paramref name="gateway"/>.</summary>
    public GatewayCounter(GatewayServer gateway, string instrument)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        var factory = gateway.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (published, listener) =>
        {
            if (published.Meter.Name == "Gateway" && ReferenceEquals(published.Meter.Scope, factory) && published.Name == instrument)
            {
                listener.EnableMeasurementEvents(published);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
        _listener.Start();
    }

    /// <summary>The sum of every measurement since the listener started.</summary>
    public long Total => Interlocked.Read(ref _total);

    public void Dispose() => _listener.Dispose();
}
