namespace Guard.Onnx.Engine;

/// <summary>
/// When a stream session's stale slots are dropped: once they exceed both <paramref name="MinStaleSlots"/> and
/// <paramref name="StaleRatio"/> times the valid slots kept. On host memory the valid slots are copied into new
/// contiguous tensors; on device memory the session starts again from the cached prefix.
/// </summary>
/// <param name="MinStaleSlots">Stale slots always tolerated.</param>
/// <param name="StaleRatio">Stale slots tolerated per valid slot.</param>
internal readonly record struct StreamCompaction(int MinStaleSlots, double StaleRatio)
{
    /// <summary>The engine's rule (docs/adr/012-stream-sessions.md): masking is cheap until the stale slots reach about
    /// a quarter of the valid ones; copying every window would move the whole cache each time.</summary>
    public static StreamCompaction Default { get; } = new(64, 0.25);

    /// <summary>Drops stale slots at every window (the cache is always truncated to the shared ids).</summary>
    public static StreamCompaction Always { get; } = new(0, 0);

    /// <summary>Whether a cache keeping <paramref name="kept"/> valid slots with <paramref name="stale"/> stale ones is compacted.</summary>
    /// <param name="kept">Valid slots kept.</param>
    /// <param name="stale">Stale slots.</param>
    public bool Due(int kept, int stale) => stale > 0 && stale > MinStaleSlots && stale > StaleRatio * kept;
}
