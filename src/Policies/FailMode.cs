namespace Policies;

/// <summary>What happens when the guard gives no usable verdict (error, timeout, unparseable answer, hold bound exceeded).</summary>
public enum FailMode
{
    /// <summary>Treat the content as blocked: nothing unchecked passes.</summary>
    Closed,

    /// <summary>Let the content pass unchecked, recorded as failed open.</summary>
    Open,
}
