namespace Policies.Model;

/// <summary>How the stream filter holds a streamed response while the guard judges it (see docs/policies.md#streaming).</summary>
public sealed record StreamingSettings
{
    /// <summary>The default window size: 400 units.</summary>
    public const int DefaultWindow = 400;

    /// <summary>The default hold bound in bytes: 1 MiB.</summary>
    public const long DefaultMaxHeldBytes = 1 << 20;

    /// <summary>The default hold bound in time: 30 s.</summary>
    public static readonly TimeSpan DefaultMaxHoldTime = TimeSpan.FromSeconds(30);

    /// <summary>Windowed, buffered or audit.</summary>
    public StreamingMode Mode { get; init; } = StreamingMode.Windowed;

    /// <summary>The window size in <see cref="Unit"/>s (windowed and audit).</summary>
    public int Window { get; init; } = DefaultWindow;

    /// <summary>Characters or tokens.</summary>
    public WindowUnit Unit { get; init; } = WindowUnit.Characters;

    /// <summary>Whether a window closes early at a sentence end once it holds <see cref="MinWindow"/> units.</summary>
    public bool CloseAtSentenceEnd { get; init; } = true;

    /// <summary>The least a window holds before a sentence end may close it.</summary>
    public int MinWindow { get; init; } = DefaultWindow / 4;

    /// <summary>How many units at the end of checked text stay held until the next check covers what follows them, so a
    /// phrase cut by a window's end is judged whole before any of it is released; the stream's end releases them.</summary>
    public int HoldBack { get; init; } = DefaultWindow / 4;

    /// <summary>The most response bytes (UTF-8) held at once; more applies the fail mode.</summary>
    public long MaxHeldBytes { get; init; } = DefaultMaxHeldBytes;

    /// <summary>The longest any text is held; longer applies the fail mode.</summary>
    public TimeSpan MaxHoldTime { get; init; } = DefaultMaxHoldTime;

    /// <summary>Every default: windowed, 400 characters closing at sentence ends after 100, 100 held back, 1 MiB, 30 s.</summary>
    public static StreamingSettings Default { get; } = new();
}
