using Policies.Validation;

namespace Policies.Store;

/// <summary>The state of the policy store, for readiness details: what is in force and whether the last reload failed.</summary>
public sealed record PolicyStoreStatus
{
    /// <summary>The files as configured; empty for the built-in default.</summary>
    public required IReadOnlyList<string> Files { get; init; }

    /// <summary>How many policies are in force.</summary>
    public required int PolicyCount { get; init; }

    /// <summary>Whether the built-in monitoring policy is in force (no file configured).</summary>
    public required bool IsBuiltInDefault { get; init; }

    /// <summary>When the policies in force were loaded.</summary>
    public required DateTimeOffset LastGoodLoadedAt { get; init; }

    /// <summary>When the last load or reload was attempted.</summary>
    public required DateTimeOffset LastAttemptAt { get; init; }

    /// <summary>Successful reloads since start.</summary>
    public int Reloads { get; init; }

    /// <summary>Rejected reloads since start.</summary>
    public int FailedReloads { get; init; }

    /// <summary>Why the last reload was rejected (every problem); <see langword="null"/> when it succeeded.</summary>
    public string? LastError { get; init; }

    /// <summary>The problems of the last rejected reload; empty when it succeeded.</summary>
    public IReadOnlyList<PolicyError> Errors { get; init; } = [];

    /// <summary>Whether the files on disk are the policies in force (the last reload succeeded).</summary>
    public bool IsCurrent => LastError is null;

    /// <summary>The status as health-check data (string and number values only).</summary>
    public IReadOnlyDictionary<string, object> ToDetails()
    {
        var details = new Dictionary<string, object>
        {
            ["files"] = Files.Count == 0 ? "(none: built-in policy)" : string.Join(", ", Files),
            ["policies"] = PolicyCount,
            ["lastGoodLoadedAt"] = LastGoodLoadedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["reloads"] = Reloads,
            ["failedReloads"] = FailedReloads,
        };
        if (LastError is not null)
        {
            details["lastError"] = LastError;
        }

        return details;
    }
}
