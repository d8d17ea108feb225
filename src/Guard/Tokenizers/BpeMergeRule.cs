namespace Guard.Tokenizers;

/// <summary>One BPE merge rule: <see cref="Left"/> followed by <see cref="Right"/> becomes <see cref="Result"/>.</summary>
/// <param name="Left">The left token id.</param>
/// <param name="Right">The right token id.</param>
/// <param name="Result">The merged token id.</param>
/// <param name="Priority">Lower merges first: the rank in a merges list, or the score rank of a SentencePiece piece.</param>
internal readonly record struct BpeMergeRule(int Left, int Right, int Result, int Priority);
