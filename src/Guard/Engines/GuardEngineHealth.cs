namespace Guard.Engines;

/// <summary>Health of a guard engine, derived from its recent calls.</summary>
public enum GuardHealthStatus
{
    /// <summary>The last call succeeded (or none was made yet).</summary>
    Healthy,

    /// <summary>Recent calls failed, fewer than the unhealthy threshold in a row.</summary>
    Degraded,

    /// <summary>Many calls in a row failed.</summary>
    Unhealthy,
}

/// <summary>A snapshot of an engine's health.</summary>
public sealed record GuardEngineHealth(GuardHealthStatus Status, int ConsecutiveFailures, DateTimeOffset? LastSuccess, DateTimeOffset? LastFailure, string? LastError);

/// <summary>Tracks call outcomes for <see cref="GuardEngineHealth"/>; thread-safe.</summary>
public sealed class GuardHealthTracker(TimeProvider time, int unhealthyAfter = 3)
{
    private readonly Lock _lock = new();
    private int _failures;
    private DateTimeOffset? _lastSuccess;
    private DateTimeOffset? _lastFailure;
    private string? _lastError;

    /// <summary>Records a successful call.</summary>
    public void Success()
    {
        lock (_lock)
        {
            _failures = 0;
            _lastSuccess = time.GetUtcNow();
        }
    }

    /// <summary>Records a failed call with a message safe to show operators (no content).</summary>
    public void Failure(string error)
    {
        lock (_lock)
        {
            _failures++;
            _lastFailure = time.GetUtcNow();
            _lastError = error;
        }
    }

    /// <summary>The current snapshot.</summary>
    public GuardEngineHealth Snapshot
    {
        get
        {
            lock (_lock)
            {
                var status = _failures == 0 ? GuardHealthStatus.Healthy : _failures < unhealthyAfter ? GuardHealthStatus.Degraded : GuardHealthStatus.Unhealthy;
                return new GuardEngineHealth(status, _failures, _lastSuccess, _lastFailure, _lastError);
            }
        }
    }
}
