namespace Guard.Onnx.Engine;

/// <summary>What a generation produced.</summary>
/// <param name="Tokens">The generated ids.</param>
/// <param name="UnsafeProbability">The unsafe probability at the verdict position; null when that position was not reached as expected.</param>
/// <param name="PromptTokens">Prompt ids.</param>
/// <param name="PrefixReused">Whether the run started from a cached prefix.</param>
/// <param name="PrefixMismatch">Whether a prefix was offered but the prompt's ids did not start with it.</param>
/// <param name="TokensRun">Tokens fed to the model: the prompt ids after the cache it started from, and the generated tokens fed back.</param>
internal sealed record Generation(int[] Tokens, double? UnsafeProbability, int PromptTokens, bool PrefixReused, bool PrefixMismatch, int TokensRun);
