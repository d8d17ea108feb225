namespace Guard.Onnx.Engine;

/// <summary>What one stream window produced.</summary>
/// <param name="Generation">The generation, as a plain call reports it.</param>
/// <param name="Cache">The cache for the session's next window; the receiver owns it.</param>
/// <param name="Continued">Whether the window continued the session's cache (else it started from the prefix).</param>
/// <param name="TokensReused">Prompt ids taken from the session's cache beyond the cached prefix: what a plain call would have run more.</param>
/// <param name="Compacted">Whether the session's stale slots were dropped by a copy first.</param>
/// <param name="Restarted">Whether the session's cache was dropped to start from the prefix (compaction on device memory).</param>
internal sealed record StreamWindow(Generation Generation, StreamCache Cache, bool Continued, int TokensReused, bool Compacted, bool Restarted);
