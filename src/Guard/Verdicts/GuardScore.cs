namespace Guard.Verdicts;

/// <summary>The model card's unsafe score: the softmax of the first answer position's logits read at <c>unsafe</c>.</summary>
public static class GuardScore
{
    /// <summary>Computes the probability of one token from a position's logits, numerically stable.</summary>
    /// <remarks>
    /// Read the position whose greedy token is the verdict word: the first generated one for Llama Guard 1 and 2,
    /// the one after the leading <c>\n\n</c> for Llama Guard 3. Llama Guard 1's <c>▁unsafe</c> is token 25110.
    /// </remarks>
    /// <param name="logits">The vocabulary logits of that position.</param>
    /// <param name="unsafeTokenId">The id of the <c>unsafe</c> token.</param>
    /// <returns>A probability between 0 and 1.</returns>
    public static double UnsafeProbability(ReadOnlySpan<float> logits, int unsafeTokenId)
    {
        if (logits.IsEmpty)
        {
            throw new ArgumentException("The logits are empty.", nameof(logits));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(unsafeTokenId);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(unsafeTokenId, logits.Length);
        var max = float.NegativeInfinity;
        foreach (var l in logits)
        {
            max = MathF.Max(max, l);
        }

        var sum = 0.0;
        foreach (var l in logits)
        {
            sum += Math.Exp(l - (double)max);
        }

        var p = Math.Exp(logits[unsafeTokenId] - (double)max) / sum;
        return double.IsFinite(p)
            ? Math.Clamp(p, 0, 1)
            : throw new ArgumentException("The logits contain NaN or are all -infinity.", nameof(logits));
    }
}
