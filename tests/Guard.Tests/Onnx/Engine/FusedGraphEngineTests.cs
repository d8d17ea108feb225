using Guard.Onnx.Engine;
using Microsoft.ML.OnnxRuntime;
using static Guard.Tests.Onnx.Engine.StreamWindows;

namespace Guard.Tests.Onnx.Engine;

/// <summary>A fused graph (ONNX Runtime's contrib operators, docs/adr/013-fused-graph.md) scores as the standard graph
/// of the same weights: plain calls, prefix reuse and stream windows; batching is turned off with a warning.</summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class FusedGraphEngineTests(TinyModelFixture fixture)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task FusedGraph_GivesTheStandardGraphsScores(bool prefixReuse)
    {
        using var fused = fixture.CreateEngine(o => o.PrefixReuse = prefixReuse, fixture.FusedModelDirectory);
        using var standard = fixture.CreateEngine(o => o.PrefixReuse = false);
        Assert.True(fused.Decoder.Signature.ContiguousRows);
        Assert.False(standard.Decoder.Signature.ContiguousRows);
        foreach (var conversation in Conversations.All())
        {
            var a = await fused.ClassifyAsync(conversation, CancellationToken.None);
            var b = await standard.ClassifyAsync(conversation, CancellationToken.None);
            AssertSameScore(b, a, $"{conversation.Role} (fused graph against standard)");
            Assert.Equal(b.RawOutput, a.RawOutput);
            Assert.Equal(b.Status, a.Status);
        }

        Assert.Equal(prefixReuse ? Conversations.All().Count() : 0, fused.Statistics.PrefixHits);
    }

    [Fact]
    public async Task FusedGraph_StreamWindows_AreCompactedEveryWindow_AndScoreAsStandardFullPasses()
    {
        using var engine = fixture.CreateEngine(modelDirectory: fixture.FusedModelDirectory);
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false);

        // The masking rule is overridden: GroupQueryAttention cannot skip stale slots.
        engine.StreamCompaction = StreamCompaction.Default;
        var cuts = Cuts(Response, 9);
        using (var session = engine.OpenStream()!)
        {
            foreach (var cut in cuts)
            {
                var window = Window(Response[..cut]);
                AssertSameScore(await full.ClassifyAsync(window, CancellationToken.None), await session.ClassifyAsync(window, CancellationToken.None), $"window of {cut} characters");
            }
        }

        var stats = engine.Statistics;
        Assert.Equal(cuts.Count, stats.StreamWindows);
        Assert.Equal(cuts.Count - 1, stats.StreamWindowsContinued);
        Assert.Equal(cuts.Count - 1, stats.StreamCompactions);
        Assert.Equal(1, stats.PrefixHits);
    }

    [Fact]
    public async Task FusedGraph_WithMaxBatchSize_RunsUnbatched_AndSaysSo()
    {
        using var fused = fixture.CreateEngine(o => o.MaxBatchSize = 4, fixture.FusedModelDirectory);
        using var standard = fixture.CreateEngine(o => o.PrefixReuse = false);
        Assert.False(fused.Batching);
        Assert.Contains(fused.Warnings, w => w.Contains("MaxBatchSize 4 is ignored", StringComparison.Ordinal) && w.Contains("fused_operators", StringComparison.Ordinal));

        var conversations = Conversations.All().ToList();
        var verdicts = await Task.WhenAll(conversations.Select(c => fused.ClassifyAsync(c, CancellationToken.None).AsTask()));
        for (var i = 0; i < conversations.Count; i++)
        {
            AssertSameScore(await standard.ClassifyAsync(conversations[i], CancellationToken.None), verdicts[i], $"concurrent call {i}");
        }

        Assert.Equal(0, fused.Statistics.Batches);
    }

    [Fact]
    public void FusedGraph_PaddedRows_AreRejectedBeforeTheyRun()
    {
        using var engine = fixture.CreateEngine(modelDirectory: fixture.FusedModelDirectory);
        using var runOptions = new RunOptions();
        var leftPadded = new DecoderInput(1, 3, 0, [0, 1, 450], [1, 0, 1], [0, 1, 1]);
        var ex = Assert.Throws<ArgumentException>(() => engine.Decoder.Forward(leftPadded, engine.EmptyCache, runOptions));
        Assert.Contains("fused graph", ex.Message, StringComparison.Ordinal);
    }
}
