using Gateway.Upstreams;

namespace Gateway.InProcess;

/// <summary>What an in-process backend generated: the text in pieces (one per stream chunk), why it stopped, and usage.</summary>
internal sealed record InProcessGeneration(IReadOnlyList<string> Pieces, string FinishReason, Usage? Usage);
