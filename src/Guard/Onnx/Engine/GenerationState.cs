using System.Runtime.InteropServices;
using Guard.Verdicts;

namespace Guard.Onnx.Engine;

/// <summary>
/// One sequence's greedy decoding decisions, independent of how its forward passes are run: reads the unsafe
/// probability at the verdict position, picks the argmax token and applies the stop rule.
/// </summary>
/// <remarks>
/// Kept apart from the pass loop so that a batcher can drive one state per row of a batched pass (docs/adr/006).
/// </remarks>
internal sealed class GenerationState
{
    private readonly PromptEncoder _encoder;
    private readonly IReadOnlySet<int> _stopIds;
    private readonly StopRule _rule;
    private readonly int[] _scoreAfter;
    private readonly List<int> _tokens;
    private int _limit;

    public GenerationState(PromptEncoder encoder, IReadOnlySet<int> stopIds, int maxTokens, StopRule rule, int[] scoreAfter)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        _encoder = encoder;
        _stopIds = stopIds;
        _rule = rule;
        _scoreAfter = scoreAfter;
        _limit = maxTokens;
        _tokens = new List<int>(Math.Min(maxTokens, 64));
    }

    /// <summary>Whether the sequence needs no more passes.</summary>
    public bool Done { get; private set; }

    /// <summary>The generated ids.</summary>
    public IReadOnlyList<int> Tokens => _tokens;

    /// <summary>The unsafe probability at the verdict position, once that position was reached after the expected lead-in.</summary>
    public double? UnsafeProbability { get; private set; }

    /// <summary>Takes the logits of the sequence's next position: scores, picks the token, decides whether to stop.</summary>
    /// <param name="logits">The vocabulary logits.</param>
    /// <returns>The chosen token, to feed next unless <see cref="Done"/>.</returns>
    public int Accept(ReadOnlySpan<float> logits)
    {
        if (Done)
        {
            throw new InvalidOperationException("The sequence has finished.");
        }

        if (_tokens.Count == _scoreAfter.Length && CollectionsMarshal.AsSpan(_tokens).SequenceEqual(_scoreAfter))
        {
            UnsafeProbability = GuardScore.UnsafeProbability(logits, _encoder.UnsafeId);
        }

        var token = ArgMax(logits);
        _tokens.Add(token);
        if (_rule == StopRule.Verdict && _tokens.Count == 1)
        {
            if (token == _encoder.SafeId)
            {
                Done = true;
                return token;
            }

            if (token != _encoder.UnsafeId)
            {
                _limit = Math.Min(_limit, GreedyDecoder.NonVerdictTokens);
            }
        }

        Done = _tokens.Count >= _limit
            || (_rule != StopRule.Exact && _stopIds.Contains(token))
            || (_rule == StopRule.Verdict && CategoryLineEnded());
        return token;
    }

    /// <summary>The index of the largest logit (the lowest index on ties).</summary>
    /// <param name="logits">The logits.</param>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        var best = 0;
        var max = float.NegativeInfinity;
        for (var i = 0; i < logits.Length; i++)
        {
            if (logits[i] > max)
            {
                max = logits[i];
                best = i;
            }
        }

        return best;
    }

    /// <summary>Whether the answer has a verdict line and a finished, non-empty category line.</summary>
    private bool CategoryLineEnded()
    {
        var text = _encoder.Tokenizer.Decode(CollectionsMarshal.AsSpan(_tokens), skipSpecialTokens: true).TrimStart();
        var first = text.IndexOf('\n', StringComparison.Ordinal);
        if (first < 0)
        {
            return false;
        }

        var second = text.IndexOf('\n', first + 1);
        return second > first + 1 && !text.AsSpan(first + 1, second - first - 1).Trim().IsEmpty;
    }
}
