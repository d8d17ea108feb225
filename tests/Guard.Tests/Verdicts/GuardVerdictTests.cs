using Guard.Prompts;
using Guard.Verdicts;

namespace Guard.Tests.Verdicts;

public sealed class GuardVerdictTests
{
    [Fact]
    public void FromParsed_CarriesEverything()
    {
        var parsed = GuardVerdictParser.Parse("unsafe\nS1,S99", GuardTaxonomy.LlamaGuard3);

        var verdict = GuardVerdict.FromParsed(parsed, "onnx", "meta-llama/Llama-Guard-3-8B", TimeSpan.FromMilliseconds(42), 0.93, truncated: true);

        Assert.Equal(GuardVerdictStatus.Unsafe, verdict.Status);
        Assert.Equal("Violent Crimes", Assert.Single(verdict.Categories).Name);
        Assert.Equal(["S99"], verdict.UnknownCodes);
        Assert.Equal(0.93, verdict.UnsafeProbability);
        Assert.Equal("onnx", verdict.Engine);
        Assert.Equal("meta-llama/Llama-Guard-3-8B", verdict.Model);
        Assert.Equal(TimeSpan.FromMilliseconds(42), verdict.Latency);
        Assert.True(verdict.Truncated);
        Assert.Equal("unsafe\nS1,S99", verdict.RawOutput);
        Assert.Null(verdict.Problem);
    }

    [Fact]
    public void FromParsed_Unparseable_KeepsTheProblemAndNoProbability()
    {
        var verdict = GuardVerdict.FromParsed(GuardVerdictParser.Parse("uns", GuardTaxonomy.LlamaGuard1), "remote", "lg1", TimeSpan.Zero);

        Assert.Equal(GuardVerdictStatus.Unparseable, verdict.Status);
        Assert.NotNull(verdict.Problem);
        Assert.Null(verdict.UnsafeProbability);
        Assert.False(verdict.Truncated);
        Assert.Empty(verdict.Categories);
    }

    [Theory]
    [InlineData(-0.01)]
    [InlineData(1.01)]
    [InlineData(double.NaN)]
    public void FromParsed_ProbabilityOutOfRange_Throws(double probability)
    {
        var parsed = GuardVerdictParser.Parse("safe", GuardTaxonomy.LlamaGuard1);

        Assert.Throws<ArgumentOutOfRangeException>(
            "unsafeProbability",
            () => GuardVerdict.FromParsed(parsed, "onnx", "lg1", TimeSpan.Zero, probability));
    }

    [Fact]
    public void FromParsed_EmptyEngine_Throws()
    {
        var parsed = GuardVerdictParser.Parse("safe", GuardTaxonomy.LlamaGuard1);

        Assert.Throws<ArgumentException>("engine", () => GuardVerdict.FromParsed(parsed, " ", "lg1", TimeSpan.Zero));
    }
}
