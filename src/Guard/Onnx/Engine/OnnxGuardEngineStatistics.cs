namespace Guard.Onnx.Engine;

/// <summary>Counters of an <see cref="OnnxGuardEngine"/> since it started.</summary>
/// <param name="Calls">Inference calls that started (classifications and completions).</param>
/// <param name="Failures">Calls that failed with a <c>GuardEngineException</c>.</param>
/// <param name="Cancelled">Calls cancelled by their caller.</param>
/// <param name="PrefixHits">Calls that started from a cached prefix.</param>
/// <param name="PrefixMisses">Calls that had a cached prefix but whose prompt ids did not start with it (a full run instead).</param>
/// <param name="ForwardPasses">Forward passes run, prefix builds excluded.</param>
/// <param name="InFlight">Calls running inference now.</param>
/// <param name="PeakInFlight">Most calls that ran inference at the same time.</param>
/// <param name="CustomPrefixBuilds">Prefixes computed for conversations with their own taxonomy (first use, or again after eviction).</param>
/// <param name="CustomPrefixEvictions">Custom-taxonomy prefixes evicted to stay within <c>CustomPrefixCacheSize</c>.</param>
/// <param name="CustomTaxonomyWholeRuns">Calls with their own taxonomy that ran the whole prompt because custom prefixes are not cached (<c>CustomPrefixCacheSize</c> 0).</param>
/// <param name="TokensRun">Guard tokens fed to the model by calls and stream windows: prompt ids after the cache a call started from, and generated tokens fed back; prefix builds excluded.</param>
/// <param name="StreamSessionsOpened">Stream sessions opened (<c>OpenStream</c>).</param>
/// <param name="StreamSessionsOpen">Stream sessions open now (opened, not yet disposed).</param>
/// <param name="StreamCachesHeld">Stream sessions' KV caches held between windows now (at most <c>MaxStreamSessions</c>).</param>
/// <param name="StreamWindows">Calls through a stream session (also counted in <paramref name="Calls"/>).</param>
/// <param name="StreamWindowsContinued">Stream windows that continued their session's cache (the others started from the prefix).</param>
/// <param name="StreamTokensReused">Prompt ids stream windows took from their session's cache beyond the prefix: what plain calls would have run in addition to <paramref name="TokensRun"/>.</param>
/// <param name="StreamCompactions">Times a session's stale slots were dropped (copied out on the CPU, or the session restarted from the prefix on a device).</param>
/// <param name="StreamCacheEvictions">Session caches evicted, least recently used first, to stay within <c>MaxStreamSessions</c>.</param>
/// <param name="StreamCacheExpirations">Session caches dropped after <c>StreamSessionIdleTimeout</c> unused.</param>
/// <param name="Batches">Batches run (with <c>MaxBatchSize</c> above 1).</param>
/// <param name="BatchedCalls">Calls run in those batches; <c>BatchedCalls / Batches</c> is the mean batch size.</param>
public sealed record OnnxGuardEngineStatistics(
    long Calls,
    long Failures,
    long Cancelled,
    long PrefixHits,
    long PrefixMisses,
    long ForwardPasses,
    int InFlight,
    int PeakInFlight,
    long CustomPrefixBuilds = 0,
    long CustomPrefixEvictions = 0,
    long CustomTaxonomyWholeRuns = 0,
    long TokensRun = 0,
    long StreamSessionsOpened = 0,
    int StreamSessionsOpen = 0,
    int StreamCachesHeld = 0,
    long StreamWindows = 0,
    long StreamWindowsContinued = 0,
    long StreamTokensReused = 0,
    long StreamCompactions = 0,
    long StreamCacheEvictions = 0,
    long StreamCacheExpirations = 0,
    long Batches = 0,
    long BatchedCalls = 0);
