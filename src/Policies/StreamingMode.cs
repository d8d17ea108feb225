namespace Policies;

/// <summary>How a streamed response is held back while the guard judges it.</summary>
public enum StreamingMode
{
    /// <summary>Text is held and released window by window, each window only after a check covering it passed.</summary>
    Windowed,

    /// <summary>The whole response is held until the upstream finishes and one check passed.</summary>
    Buffered,

    /// <summary>Nothing is held: text reaches the client at once and is judged afterwards. Leaks unsafe text by design.</summary>
    Audit,
}
