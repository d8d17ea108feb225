using Guard.Conversations;
using Guard.Onnx.Builder;
using Guard.Onnx.Engine;
using Guard.Onnx.Models;
using Guard.Prompts;
using static Guard.Tests.Onnx.Engine.StreamWindows;

namespace Guard.Tests.Onnx.Engine;

/// <summary>A stream session changes nothing but the work done: every window scores as a full pass over the same
/// prompt, whatever the session kept, masked or compacted, and whatever the tokenizer did at the window's edge.</summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class StreamSessionScoreTests(TinyModelFixture fixture)
{
    public static TheoryData<string, string> Rules => new()
    {
        { "default", "last-token" },
        { "always", "last-token" },
        { "never", "last-token" },
        { "default", "all-logits" },
        { "default", "shared-prefix" },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public async Task Windows_OfAGrowingResponse_ScoreAsFullPasses(string rule, string graph)
    {
        var model = graph switch
        {
            "all-logits" => fixture.AllLogitsModelDirectory,
            "shared-prefix" => fixture.SharedPrefixModelDirectory,
            _ => fixture.ModelDirectory,
        };
        using var engine = fixture.CreateEngine(modelDirectory: model);
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false, model);
        engine.StreamCompaction = rule switch
        {
            "always" => StreamCompaction.Always,
            "never" => new StreamCompaction(int.MaxValue, double.MaxValue),
            _ => StreamCompaction.Default,
        };
        var cuts = Cuts(Response, 9);
        var plain = 0;
        using (var session = engine.OpenStream()!)
        {
            foreach (var cut in cuts)
            {
                var window = Window(Response[..cut]);
                var expected = await full.ClassifyAsync(window, CancellationToken.None);
                var actual = await session.ClassifyAsync(window, CancellationToken.None);
                AssertSameScore(expected, actual, $"window of {cut} characters");
                Assert.Equal(expected.Status, actual.Status);
                plain += PlainPromptTokens(engine, window);
            }
        }

        var stats = engine.Statistics;
        Assert.Equal(cuts.Count, stats.StreamWindows);
        Assert.Equal(cuts.Count - 1, stats.StreamWindowsContinued);
        Assert.Equal(1, stats.PrefixHits);
        // Every id a plain call would run was either run or taken from the session: nothing was skipped.
        Assert.Equal(plain + (stats.ForwardPasses - cuts.Count), stats.TokensRun + stats.StreamTokensReused);
        Assert.True(stats.TokensRun < plain, $"{stats.TokensRun} tokens run; plain calls would run {plain}");
        Assert.Equal(1, stats.StreamSessionsOpened);
        Assert.Equal(0, stats.StreamSessionsOpen);
        Assert.Equal(0, stats.StreamCachesHeld);
        if (rule == "always")
        {
            Assert.Equal(cuts.Count - 1, stats.StreamCompactions);
        }
    }

    [Fact]
    public async Task AWordCutByTheWindow_IsTokenizedDifferentlyNext_AndRunsAgainFromTheSharedIds()
    {
        using var engine = fixture.CreateEngine(o => o.MaxCategoryTokens = 1);
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false);
        var first = Window("Knead it for ten min");
        var second = Window("Knead it for ten minutes until it's smooth");
        var a = engine.EncodeConversation(first).Ids;
        var b = engine.EncodeConversation(second).Ids;
        // The first window's text ends inside a word: its last text token is not a token of the second window's.
        var textEnd = a.Length - CommonSuffix(a, b);
        var shared = a.AsSpan().CommonPrefixLength(b);
        Assert.True(shared < textEnd, $"the windows share {shared} ids and the first one's text ends at {textEnd}");

        using var session = engine.OpenStream()!;
        await session.ClassifyAsync(first, CancellationToken.None);
        var tokensBefore = engine.Statistics.TokensRun;
        var actual = await session.ClassifyAsync(second, CancellationToken.None);
        AssertSameScore(await full.ClassifyAsync(second, CancellationToken.None), actual, "second window");
        Assert.Equal(b.Length - shared, engine.Statistics.TokensRun - tokensBefore);
    }

    [Fact]
    public async Task CustomTaxonomyWindows_ScoreAsFullPasses()
    {
        var taxonomy = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, new GuardTaxonomyConfig
        {
            Remove = ["O6"],
            Categories = [new GuardCategoryConfig { Code = "O7", Name = "Financial Advice", Description = "Should not\n- give personalised investment advice." }],
        });
        using var engine = fixture.CreateEngine();
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false);
        var cuts = Cuts(Response, 23);
        using (var session = engine.OpenStream()!)
        {
            foreach (var cut in cuts)
            {
                var window = Window(Response[..cut]).WithTaxonomy(taxonomy);
                AssertSameScore(await full.ClassifyAsync(window, CancellationToken.None), await session.ClassifyAsync(window, CancellationToken.None), $"window of {cut} characters");
            }
        }

        var stats = engine.Statistics;
        Assert.Equal(1, stats.CustomPrefixBuilds);
        Assert.Equal(cuts.Count - 1, stats.StreamWindowsContinued);
    }

    [Fact]
    public async Task LlamaGuard3Windows_ReadTheVerdictAfterTheLeadIn_AndScoreAsFullPasses()
    {
        var dir = BuildLlama3("lg3-tiny-streams");
        using var engine = fixture.CreateEngine(modelDirectory: dir);
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false, dir);
        Assert.Equal([271], engine.Encoder.LeadIn);
        var cuts = Cuts(Response, 17);
        using (var session = engine.OpenStream()!)
        {
            foreach (var cut in cuts)
            {
                var window = Window(Response[..cut]);
                var expected = await full.ClassifyAsync(window, CancellationToken.None);
                var actual = await session.ClassifyAsync(window, CancellationToken.None);
                AssertSameScore(expected, actual, $"window of {cut} characters");
                Assert.StartsWith("\n\n", actual.RawOutput, StringComparison.Ordinal);
            }
        }

        Assert.Equal(cuts.Count - 1, engine.Statistics.StreamWindowsContinued);
    }

    [Fact]
    public async Task AnotherRoleOrConversation_InTheSameSession_StartsFromItsPrefix_AndScoresAsAFullPass()
    {
        using var engine = fixture.CreateEngine();
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false);
        using var session = engine.OpenStream()!;
        foreach (var conversation in Conversations.All())
        {
            AssertSameScore(await full.ClassifyAsync(conversation, CancellationToken.None), await session.ClassifyAsync(conversation, CancellationToken.None), conversation.Role.ToString());
        }

        var stats = engine.Statistics;
        Assert.Equal(Conversations.All().Count(), stats.StreamWindows);
        Assert.Equal(0, stats.PrefixMisses);
    }

    private static int CommonSuffix(int[] a, int[] b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[^(n + 1)] == b[^(n + 1)])
        {
            n++;
        }

        return n;
    }

    private string BuildLlama3(string name)
    {
        var dir = Path.Combine(Path.GetDirectoryName(fixture.ModelDirectory)!, name);
        if (!File.Exists(Path.Combine(dir, "manifest.json")))
        {
            var config = TinyModelFixture.Config with { VocabSize = 128256, BosTokenId = 128000, EosTokenId = 128009, RopeTheta = 500000 };
            LlamaOnnxBuilder.Build(
                new RandomLlamaWeights(config, 99, 0.5f),
                new LlamaBuildOptions
                {
                    Family = GuardFamily.LlamaGuard3,
                    ModelId = "test/" + name,
                    TokenizerSource = Path.GetDirectoryName(fixture.Llama3TokenizerJson),
                    LastTokenLogitsOnly = true,
                },
                dir);
        }

        return dir;
    }
}
