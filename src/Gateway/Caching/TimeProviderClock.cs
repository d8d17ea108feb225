using Microsoft.Extensions.Internal;

namespace Gateway.Caching;

/// <summary>The memory cache's clock read from the host's <see cref="TimeProvider"/>, so entries expire on the same
/// time as everything else (and on a test's fake clock).</summary>
internal sealed class TimeProviderClock(TimeProvider time) : ISystemClock
{
    public DateTimeOffset UtcNow => time.GetUtcNow();
}
