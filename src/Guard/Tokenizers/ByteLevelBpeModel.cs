namespace Guard.Tokenizers;

/// <summary>The vocabulary and merges of a byte-level BPE model.</summary>
/// <param name="Vocab">Token (as a byte string: one char per byte) to id; control tokens excluded.</param>
/// <param name="ByteIds">The id of each single-byte token.</param>
/// <param name="Merges">The merge rules.</param>
/// <param name="IgnoreMerges">Whether a piece found in the vocabulary is emitted whole before any merging.</param>
internal sealed record ByteLevelBpeModel(Dictionary<string, int> Vocab, int[] ByteIds, BpeMergeTable Merges, bool IgnoreMerges);
