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
    long Batches = 0,
    long BatchedCalls = 0);
