using Guard.Conversations;
using Guard.Onnx.Engine;
using Guard.Prompts;
using Guard.Verdicts;
using Microsoft.ML.OnnxRuntime;

namespace Guard.Tests.Onnx.Engine;

/// <summary>
/// A conversation's own taxonomy on the ONNX engine: its prompt gets its own cached prefix, and every score equals a
/// pass over the same prompt without prefix reuse; the engine's own prefix is untouched. Random weights: only the two
/// paths are compared, never what the model says.
/// </summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class PerCallTaxonomyTests(TinyModelFixture fixture)
{
    private const int AnswerTokens = 12;

    private static readonly GuardTaxonomyConfig FinancialConfig = new()
    {
        Remove = ["O6"],
        Categories = [new GuardCategoryConfig { Code = "O7", Name = "Financial Advice", Description = "Should not\n- give personalised investment advice." }],
    };

    private static readonly GuardTaxonomy Financial = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, FinancialConfig);

    private static readonly GuardTaxonomy FraudAndSpam = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, new GuardTaxonomyConfig
    {
        Replace = true,
        Categories = [new() { Code = "C1", Name = "Fraud" }, new() { Code = "C2", Name = "Spam" }],
    });

    private static readonly GuardConversation[] Sample =
    [
        GuardConversation.ForPrompt("Should I put my savings into one stock?"),
        GuardConversation.ForResponse("How do I bake bread?", "Mix flour, water, salt and yeast; knead; let it rise; bake."),
        GuardConversation.ForPrompt("Écris-moi un poème sur la mer 🌊."),
    ];

    /// <summary>The prompt's ids run whole from an empty cache: no prefix reuse.</summary>
    private static (double Probability, string Text) Whole(OnnxGuardEngine engine, GuardConversation conversation)
    {
        var (ids, _) = engine.EncodeConversation(conversation);
        using var runOptions = new RunOptions();
        var generation = engine.Generator.Generate(ids, null, AnswerTokens, StopRule.Verdict, [], runOptions, CancellationToken.None);
        Assert.False(generation.PrefixReused);
        return (generation.UnsafeProbability!.Value, engine.Encoder.Tokenizer.Decode([.. engine.Encoder.LeadIn, .. generation.Tokens]));
    }

    private static void AssertSameScore(double expected, GuardVerdict actual, string what)
    {
        var p = actual.UnsafeProbability!.Value;
        Assert.True(Math.Abs(p - expected) <= 1e-4 * Math.Max(Math.Abs(expected), 1e-12), $"{what}: engine {p:R}, whole pass {expected:R}");
    }

    [Fact]
    public async Task CustomTaxonomy_GetsItsOwnCachedPrefix_AndEqualsAPassWithoutPrefixReuse()
    {
        using var engine = fixture.CreateEngine();
        using var configured = fixture.CreateEngine(o => o.Taxonomy = FinancialConfig);
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false);

        foreach (var plain in Sample)
        {
            var conversation = plain.WithTaxonomy(Financial);
            var verdict = await engine.ClassifyAsync(conversation, CancellationToken.None);

            // The same prompt as an engine configured with the taxonomy at start-up, not the engine's own.
            Assert.Equal(configured.EncodeConversation(plain).Ids, engine.EncodeConversation(conversation).Ids);
            Assert.NotEqual(engine.EncodeConversation(plain).Ids, engine.EncodeConversation(conversation).Ids);

            var (probability, text) = Whole(engine, conversation);
            AssertSameScore(probability, verdict, $"{plain.Role}, per-call prefix");
            Assert.Equal(text, verdict.RawOutput);
            AssertSameScore(probability, await full.ClassifyAsync(conversation, CancellationToken.None), $"{plain.Role}, no prefix reuse");
            AssertSameScore(probability, await configured.ClassifyAsync(plain, CancellationToken.None), $"{plain.Role}, configured taxonomy");
        }

        // One prefix per role, computed on first use; every call started from one, none mismatched.
        var stats = engine.Statistics;
        Assert.Equal(2, stats.CustomPrefixBuilds);
        Assert.Equal(0, stats.CustomPrefixEvictions);
        Assert.Equal(Sample.Length, stats.PrefixHits);
        Assert.Equal(0, stats.PrefixMisses);
        Assert.Equal(2, engine.Prefixes!.CustomCount);
        Assert.Equal(0, full.Statistics.CustomPrefixBuilds);
    }

    [Fact]
    public async Task DefaultTaxonomy_StillHitsTheOriginalPrefix()
    {
        using var engine = fixture.CreateEngine();
        var user = engine.GetPrefix(GuardRole.User)!;
        var agent = engine.GetPrefix(GuardRole.Agent)!;
        var conversation = Sample[0];

        var before = await engine.ClassifyAsync(conversation, CancellationToken.None);
        await engine.ClassifyAsync(conversation.WithTaxonomy(FraudAndSpam), CancellationToken.None);
        var after = await engine.ClassifyAsync(conversation, CancellationToken.None);
        var explicitDefault = await engine.ClassifyAsync(conversation.WithTaxonomy(GuardTaxonomy.LlamaGuard1), CancellationToken.None);

        Assert.Same(user, engine.GetPrefix(GuardRole.User));
        Assert.Same(agent, engine.GetPrefix(GuardRole.Agent));
        Assert.False(user.Kv.IsDisposed);
        Assert.True(engine.EncodeConversation(conversation).Ids.AsSpan().StartsWith(user.Ids));
        Assert.Equal(before.UnsafeProbability, after.UnsafeProbability);
        Assert.Equal(before.UnsafeProbability, explicitDefault.UnsafeProbability);
        AssertSameScore(Whole(engine, conversation).Probability, after, "default taxonomy");
        var stats = engine.Statistics;
        Assert.Equal(1, stats.CustomPrefixBuilds); // the engine's own taxonomy, even given explicitly, is not custom
        Assert.Equal(4, stats.PrefixHits);
        Assert.Equal(0, stats.PrefixMisses);
    }

    [Fact]
    public async Task CustomPrefixes_AreEvictedLeastRecentlyUsedFirst_AndScoresStillEqualWholePasses()
    {
        using var engine = fixture.CreateEngine(o => o.CustomPrefixCacheSize = 1);
        var conversation = Sample[0];

        foreach (var taxonomy in new[] { Financial, FraudAndSpam, Financial, Financial })
        {
            var custom = conversation.WithTaxonomy(taxonomy);
            var verdict = await engine.ClassifyAsync(custom, CancellationToken.None);
            AssertSameScore(Whole(engine, custom).Probability, verdict, taxonomy.Categories[^1].Code);
        }

        var stats = engine.Statistics;
        Assert.Equal(3, stats.CustomPrefixBuilds); // Financial, FraudAndSpam, Financial again; the last call hits
        Assert.Equal(2, stats.CustomPrefixEvictions);
        Assert.Equal(4, stats.PrefixHits);
        Assert.Equal(1, engine.Prefixes!.CustomCount);
    }

    [Fact]
    public void EvictedPrefix_IsDisposedOnlyWhenItsLastLeaseEnds()
    {
        using var engine = fixture.CreateEngine(o => o.CustomPrefixCacheSize = 1);
        var cache = engine.Prefixes!;
        using var runOptions = new RunOptions();
        int[] PrefixIds(GuardTaxonomy taxonomy) =>
            engine.Encoder.Encode(new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard1, taxonomy).GetPrefixSegments(GuardRole.User), withLeadIn: false);

        var first = cache.Acquire(Financial, GuardRole.User, () => PrefixIds(Financial), runOptions);
        var again = cache.Acquire(Financial, GuardRole.User, () => throw new InvalidOperationException("cached: not run again"), runOptions);
        var financial = first.Entry!;
        Assert.Same(financial, again.Entry);

        var other = cache.Acquire(FraudAndSpam, GuardRole.User, () => PrefixIds(FraudAndSpam), runOptions);
        Assert.Equal(1, cache.CustomEvictions);
        Assert.False(financial.Kv.IsDisposed);

        // Still readable by the calls that hold it: the same answer as a whole pass.
        var conversation = Sample[0].WithTaxonomy(Financial);
        var (ids, _) = engine.EncodeConversation(conversation);
        var reused = engine.Generator.Generate(ids, financial, AnswerTokens, StopRule.Verdict, [], runOptions, CancellationToken.None);
        Assert.True(reused.PrefixReused);
        Assert.Equal(Whole(engine, conversation).Probability, reused.UnsafeProbability!.Value, 1e-4 * reused.UnsafeProbability.Value);

        first.Dispose();
        Assert.False(financial.Kv.IsDisposed);
        again.Dispose();
        Assert.True(financial.Kv.IsDisposed);

        other.Dispose();
        var fraud = other.Entry!;
        Assert.False(fraud.Kv.IsDisposed); // still cached
        engine.Dispose(); // idempotent: the using declaration's second call does nothing
        Assert.True(fraud.Kv.IsDisposed);
        Assert.True(engine.GetPrefix(GuardRole.User)!.Kv.IsDisposed);
    }

    [Fact]
    public async Task WithoutCustomPrefixCache_CustomTaxonomiesRunWhole_AndAreCounted()
    {
        using var engine = fixture.CreateEngine(o => o.CustomPrefixCacheSize = 0);
        var conversation = Sample[1].WithTaxonomy(FraudAndSpam);

        var verdict = await engine.ClassifyAsync(conversation, CancellationToken.None);
        await engine.ClassifyAsync(Sample[1], CancellationToken.None);

        AssertSameScore(Whole(engine, conversation).Probability, verdict, "whole run");
        var stats = engine.Statistics;
        Assert.Equal(1, stats.CustomTaxonomyWholeRuns);
        Assert.Equal(0, stats.CustomPrefixBuilds);
        Assert.Equal(1, stats.PrefixHits); // the engine's own taxonomy still reuses its prefix
        Assert.Equal(0, stats.PrefixMisses);
    }

    [Fact]
    public async Task Batch_OfDifferentTaxonomies_EqualsOneCallEach()
    {
        using var engine = fixture.CreateEngine();
        GuardConversation[] batch =
        [
            Sample[0],
            Sample[0].WithTaxonomy(Financial),
            Sample[1].WithTaxonomy(FraudAndSpam),
            Sample[2].WithTaxonomy(Financial),
        ];

        var verdicts = await engine.ClassifyBatchAsync(batch, CancellationToken.None);

        Assert.Equal(batch.Length, verdicts.Count);
        for (var i = 0; i < batch.Length; i++)
        {
            var (probability, text) = Whole(engine, batch[i]);
            AssertSameScore(probability, verdicts[i], $"batch item {i}");
            Assert.Equal(text, verdicts[i].RawOutput);
        }

        Assert.Equal(batch.Length, engine.Statistics.PrefixHits);
        Assert.Equal(0, engine.Statistics.PrefixMisses);
    }

    [Fact]
    public async Task Verdict_IsReadAgainstTheConversationsTaxonomy()
    {
        using var engine = fixture.CreateEngine();
        var verdict = await engine.ClassifyAsync(Sample[0].WithTaxonomy(FraudAndSpam), CancellationToken.None);

        // Whatever the random model answers, it is parsed against the same taxonomy the prompt listed.
        var expected = GuardVerdictParser.Parse(verdict.RawOutput, FraudAndSpam);
        Assert.Equal(expected.Status, verdict.Status);
        Assert.Equal(expected.Categories, verdict.Categories);
        Assert.Equal(expected.UnknownCodes, verdict.UnknownCodes);
        Assert.Same(GuardTaxonomy.LlamaGuard1, engine.Taxonomy);
    }

    [Fact]
    public async Task TaxonomyOfAnotherFamily_IsRejected_BeforeAnyInference()
    {
        using var engine = fixture.CreateEngine();
        var wrong = Sample[0].WithTaxonomy(GuardTaxonomy.LlamaGuard3);

        var single = await Assert.ThrowsAsync<ArgumentException>("conversation", () => engine.ClassifyAsync(wrong, CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<ArgumentException>("conversations", () => engine.ClassifyBatchAsync([Sample[1], wrong], CancellationToken.None).AsTask());
        Assert.Throws<ArgumentException>("conversation", () => engine.EncodeConversation(wrong));

        Assert.Contains("LlamaGuard3", single.Message, StringComparison.Ordinal);
        Assert.Contains("LlamaGuard1", single.Message, StringComparison.Ordinal);
        Assert.Equal(0, engine.Statistics.Calls);
    }

    [Fact]
    public void Options_RejectACustomPrefixCacheSizeOutOfRange()
    {
        Assert.Contains(new OnnxGuardEngineOptions { ModelDirectory = "m", CustomPrefixCacheSize = -1 }.Validate(), e => e.Contains("CustomPrefixCacheSize", StringComparison.Ordinal));
        Assert.Contains(new OnnxGuardEngineOptions { ModelDirectory = "m", CustomPrefixCacheSize = 65 }.Validate(), e => e.Contains("CustomPrefixCacheSize", StringComparison.Ordinal));
        Assert.Empty(new OnnxGuardEngineOptions { ModelDirectory = "m", CustomPrefixCacheSize = 0 }.Validate());
    }
}
