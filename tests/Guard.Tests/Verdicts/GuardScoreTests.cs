using Guard.Verdicts;

namespace Guard.Tests.Verdicts;

public sealed class GuardScoreTests
{
    [Fact]
    public void UnsafeProbability_UniformLogits_IsOneOverVocabulary()
    {
        var logits = new float[32000];

        Assert.Equal(1.0 / 32000, GuardScore.UnsafeProbability(logits, 25110), 12);
    }

    [Fact]
    public void UnsafeProbability_IsTheSoftmaxAtTheToken()
    {
        float[] logits = [1f, 2f, 3f];
        var expected = Math.Exp(2) / (Math.Exp(1) + Math.Exp(2) + Math.Exp(3));

        Assert.Equal(expected, GuardScore.UnsafeProbability(logits, 1), 6);
    }

    [Fact]
    public void UnsafeProbability_LargeLogits_DoNotOverflow()
    {
        float[] logits = [1000f, 1001f, -1000f];

        var p = GuardScore.UnsafeProbability(logits, 1);

        Assert.Equal(1 / (1 + Math.Exp(-1)), p, 6);
    }

    [Fact]
    public void UnsafeProbability_NegativeInfinityElsewhere_IsOne()
    {
        float[] logits = [float.NegativeInfinity, 5f];

        Assert.Equal(1.0, GuardScore.UnsafeProbability(logits, 1));
    }

    [Fact]
    public void UnsafeProbability_BadInput_Throws()
    {
        Assert.Throws<ArgumentException>("logits", () => GuardScore.UnsafeProbability([], 0));
        Assert.Throws<ArgumentOutOfRangeException>("unsafeTokenId", () => GuardScore.UnsafeProbability([1f], 1));
        Assert.Throws<ArgumentOutOfRangeException>("unsafeTokenId", () => GuardScore.UnsafeProbability([1f], -1));
        Assert.Throws<ArgumentException>("logits", () => GuardScore.UnsafeProbability([float.NaN, 1f], 1));
    }
}
