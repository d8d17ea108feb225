using Guard.Conversations;
using Guard.Onnx.Engine;
using Guard.Prompts;
using Microsoft.ML.OnnxRuntime;

namespace Guard.Tests.Onnx.Engine;

/// <summary>The cached prompt prefix changes nothing but the work done: same scores, same answers.</summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class PrefixReuseTests(TinyModelFixture fixture)
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Scores_WithAndWithoutPrefixReuse_AreIdenticalWithinTolerance(bool lastTokenLogitsOnly)
    {
        var model = lastTokenLogitsOnly ? fixture.ModelDirectory : fixture.AllLogitsModelDirectory;
        using var reuse = fixture.CreateEngine(o => o.PrefixReuse = true, model);
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false, model);
        Assert.True(reuse.PrefixReuse);
        Assert.False(full.PrefixReuse);

        var roles = new HashSet<GuardRole>();
        foreach (var conversation in Conversations.All())
        {
            roles.Add(conversation.Role);
            var a = await reuse.ClassifyAsync(conversation, CancellationToken.None);
            var b = await full.ClassifyAsync(conversation, CancellationToken.None);
            Assert.NotNull(a.UnsafeProbability);
            Assert.NotNull(b.UnsafeProbability);
            var pa = a.UnsafeProbability.Value;
            var pb = b.UnsafeProbability.Value;
            Assert.True(Math.Abs(pa - pb) <= 1e-4 * Math.Max(Math.Abs(pb), 1e-12), $"{conversation.Role}: with reuse {pa:R}, without {pb:R}");
            Assert.Equal(b.RawOutput, a.RawOutput);
            Assert.Equal(b.Status, a.Status);
        }

        Assert.Equal([GuardRole.User, GuardRole.Agent], roles.Order());
        var stats = reuse.Statistics;
        Assert.Equal(Conversations.All().Count(), stats.PrefixHits);
        Assert.Equal(0, stats.PrefixMisses);
        Assert.Equal(0, full.Statistics.PrefixHits);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SharedPrefixGraph_GivesTheStandardGraphsScores(bool prefixReuse)
    {
        using var shared = fixture.CreateEngine(o => o.PrefixReuse = prefixReuse, fixture.SharedPrefixModelDirectory);
        using var standard = fixture.CreateEngine(o => o.PrefixReuse = false);
        Assert.True(shared.Decoder.Signature.SharedPrefix);
        Assert.False(standard.Decoder.Signature.SharedPrefix);
        foreach (var conversation in Conversations.All())
        {
            var a = await shared.ClassifyAsync(conversation, CancellationToken.None);
            var b = await standard.ClassifyAsync(conversation, CancellationToken.None);
            var pa = a.UnsafeProbability!.Value;
            var pb = b.UnsafeProbability!.Value;
            Assert.True(Math.Abs(pa - pb) <= 1e-4 * Math.Max(Math.Abs(pb), 1e-12), $"{conversation.Role}: shared-prefix graph {pa:R}, standard {pb:R}");
            Assert.Equal(b.RawOutput, a.RawOutput);
        }

        Assert.Equal(prefixReuse ? Conversations.All().Count() : 0, shared.Statistics.PrefixHits);
    }

    [Fact]
    public void Prefix_IsMostOfTheDefaultPrompt_AndIsAPrefixOfEveryPromptsIds()
    {
        using var engine = fixture.CreateEngine();
        foreach (var conversation in Conversations.All())
        {
            var (ids, truncated) = engine.EncodeConversation(conversation);
            Assert.False(truncated);
            var prefixLength = engine.GetPrefixTokenCount(conversation.Role);
            Assert.InRange(prefixLength, 700, ids.Length - 10);
            Assert.Equal(1, ids[0]); // <s>
        }

        // The default LG1 prompt with a short message: the prefix is ~95% of it (docs/guard.md).
        var (shortIds, _) = engine.EncodeConversation(GuardConversation.ForPrompt("Hi"));
        Assert.True(engine.GetPrefixTokenCount(GuardRole.User) > 0.9 * shortIds.Length, $"{engine.GetPrefixTokenCount(GuardRole.User)} of {shortIds.Length}");
    }

    [Fact]
    public async Task CustomTaxonomy_GetsItsOwnPrefix_AndStillMatchesAFullRun()
    {
        var taxonomy = new GuardTaxonomyConfig
        {
            Remove = ["O6"],
            Categories = [new GuardCategoryConfig { Code = "O7", Name = "Financial Advice", Description = "Should not\n- give personalised investment advice." }],
        };
        using var reuse = fixture.CreateEngine(o => o.Taxonomy = taxonomy);
        using var full = fixture.CreateEngine(o => { o.Taxonomy = taxonomy; o.PrefixReuse = false; });
        using var standard = fixture.CreateEngine();
        Assert.NotEqual(standard.GetPrefixTokenCount(GuardRole.User), reuse.GetPrefixTokenCount(GuardRole.User));

        var conversation = GuardConversation.ForPrompt("Should I put my savings into one stock?");
        var a = await reuse.ClassifyAsync(conversation, CancellationToken.None);
        var b = await full.ClassifyAsync(conversation, CancellationToken.None);
        Assert.Equal(b.UnsafeProbability!.Value, a.UnsafeProbability!.Value, 1e-4 * b.UnsafeProbability.Value);
        Assert.Equal(1, reuse.Statistics.PrefixHits);
    }

    [Fact]
    public async Task RawCompletion_OfARenderedPrompt_ReusesThePrefix_AndMatchesClassification()
    {
        using var engine = fixture.CreateEngine();
        var conversation = GuardConversation.ForPrompt("How do I bake bread?");
        var rendered = new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard1).Render(conversation);
        var verdict = await engine.ClassifyAsync(conversation, CancellationToken.None);
        var completion = await engine.CompleteAsync(rendered.Full, 12, CancellationToken.None);

        Assert.Equal(2, engine.Statistics.PrefixHits);
        Assert.Equal(verdict.UnsafeProbability!.Value, completion.UnsafeProbability!.Value, 1e-9);
        Assert.Equal(engine.EncodeConversation(conversation).Ids.Length, completion.PromptTokens);
    }

    [Fact]
    public void PromptWhoseIdsDoNotStartWithThePrefix_RunsWhole_AndSaysSo()
    {
        using var engine = fixture.CreateEngine();
        var (ids, _) = engine.EncodeConversation(GuardConversation.ForPrompt("How do I bake bread?"));
        var prefix = engine.GetPrefix(GuardRole.User)!;
        // As if the tokenizer had merged a token across the prefix boundary: the cached prefix must not be used.
        var changed = (int[])ids.Clone();
        changed[prefix.Ids.Length - 1] = engine.Encoder.Tokenizer.Encode("x", addBos: false)[0];
        using var runOptions = new RunOptions();
        var offered = engine.Generator.Generate(changed, prefix, 3, StopRule.Exact, [], runOptions, CancellationToken.None);
        var plain = engine.Generator.Generate(changed, null, 3, StopRule.Exact, [], runOptions, CancellationToken.None);
        Assert.False(offered.PrefixReused);
        Assert.True(offered.PrefixMismatch);
        Assert.Equal(plain.Tokens, offered.Tokens);
        Assert.Equal(plain.UnsafeProbability, offered.UnsafeProbability);
    }
}
