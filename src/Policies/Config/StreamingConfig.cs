namespace Policies.Config;

/// <summary>How a streamed response is held while it is judged, as written; unset fields take their defaults.</summary>
public sealed record StreamingConfig
{
    /// <summary>Windowed (default), buffered or audit.</summary>
    public StreamingMode? Mode { get; init; }

    /// <summary>The window size in <see cref="Unit"/>s. Default 400.</summary>
    public int? Window { get; init; }

    /// <summary>Characters (default) or tokens.</summary>
    public WindowUnit? Unit { get; init; }

    /// <summary>Whether a window closes early at a sentence end once it holds <see cref="MinWindow"/>. Default true.</summary>
    public bool? CloseAtSentenceEnd { get; init; }

    /// <summary>The least a window holds before a sentence end may close it. Default a quarter of the window.</summary>
    public int? MinWindow { get; init; }

    /// <summary>The checked text kept back until the next check, in units, so a phrase cut by a window's end is judged
    /// whole before any of it is released. Default a quarter of the window.</summary>
    public int? HoldBack { get; init; }

    /// <summary>The most response bytes (UTF-8) held at once; beyond it the fail mode applies. Default 1 MiB.</summary>
    public long? MaxHeldBytes { get; init; }

    /// <summary>The longest any text is held; beyond it the fail mode applies. Default 30 s.</summary>
    public TimeSpan? MaxHoldTime { get; init; }
}
