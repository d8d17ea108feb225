using Guard.Conversations;
using Guard.Onnx.Engine;
using Guard.Verdicts;
using Microsoft.ML.OnnxRuntime;

namespace Guard.Tests.Onnx.Engine;

/// <summary>
/// The decoding loop's mechanics on a random-weight model (never a rigged one): decoding with the KV cache gives exactly
/// the tokens of re-running the whole sequence without a cache at every step; the stop rules end generation where a
/// Llama Guard answer ends.
/// </summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class GreedyDecodingTests(TinyModelFixture fixture)
{
    private const int Steps = 10;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DecodingWithKvCache_YieldsTheTokensOfFullRerunsWithoutCache(bool fromPrefix)
    {
        using var engine = fixture.CreateEngine();
        foreach (var conversation in Conversations.All().Take(4))
        {
            var (ids, _) = engine.EncodeConversation(conversation);
            using var runOptions = new RunOptions();
            var prefix = fromPrefix ? engine.GetPrefix(conversation.Role) : null;
            var cached = engine.Generator.Generate(ids, prefix, Steps, StopRule.Exact, [], runOptions, CancellationToken.None);
            Assert.Equal(fromPrefix, cached.PrefixReused);

            var (reference, firstProbability) = Reference(engine, ids, Steps);
            Assert.Equal(reference, cached.Tokens);
            Assert.Equal(firstProbability, cached.UnsafeProbability!.Value, 1e-4 * firstProbability);
        }
    }

    [Fact]
    public async Task Classification_RunsOnePassPerGeneratedToken_AndNeverMoreThanTheLimit()
    {
        using var engine = fixture.CreateEngine(o => o.MaxCategoryTokens = 6);
        foreach (var conversation in Conversations.All())
        {
            var before = engine.Statistics.ForwardPasses;
            var verdict = await engine.ClassifyAsync(conversation, CancellationToken.None);
            var passes = engine.Statistics.ForwardPasses - before;
            Assert.InRange(passes, 1, 6);
            Assert.Equal("onnx", verdict.Engine);
            Assert.Equal("test/llamaguard-tiny-random", verdict.Model);
            Assert.InRange(verdict.UnsafeProbability!.Value, 0, 1);
            var (ids, _) = engine.EncodeConversation(conversation);
            var (reference, _) = Reference(engine, ids, 1);
            if (reference[0] == engine.Encoder.SafeId)
            {
                Assert.Equal(1, passes);
                Assert.Equal(GuardVerdictStatus.Safe, verdict.Status);
            }
            else if (reference[0] != engine.Encoder.UnsafeId)
            {
                // Random weights rarely start with a verdict word: a few tokens, then the parser says so.
                Assert.InRange(passes, 1, GreedyDecoder.NonVerdictTokens);
                Assert.Equal(GuardVerdictStatus.Unparseable, verdict.Status);
            }
        }
    }

    [Fact]
    public async Task Completion_GeneratesAtMostMaxTokens_AndCountsPromptTokens()
    {
        using var engine = fixture.CreateEngine();
        var completion = await engine.CompleteAsync("[INST] Say something. [/INST]", 5, CancellationToken.None);
        Assert.InRange(completion.CompletionTokens!.Value, 1, 5);
        Assert.Equal(engine.Encoder.EncodeRaw("[INST] Say something. [/INST]").Length, completion.PromptTokens);
        Assert.NotNull(completion.UnsafeProbability);
        Assert.Equal(0, engine.Statistics.PrefixHits); // not a rendered guard prompt
    }

    [Fact]
    public void VerdictTokens_AreTheLlamaGuard1Ids()
    {
        using var engine = fixture.CreateEngine();
        Assert.Equal(9109, engine.Encoder.SafeId);
        Assert.Equal(25110, engine.Encoder.UnsafeId);
        Assert.Empty(engine.Encoder.LeadIn);
    }

    [Fact]
    public void StopRule_SafeStopsAtOnce()
    {
        using var engine = fixture.CreateEngine();
        var state = NewState(engine, 12);
        state.Accept(OneHot(engine.Encoder.SafeId));
        Assert.True(state.Done);
        Assert.Equal("safe", engine.Encoder.Tokenizer.Decode([.. state.Tokens]));
    }

    [Theory]
    [InlineData("unsafe\nO1,O3\n", true)]
    [InlineData("unsafe\nO3</s>", true)]
    [InlineData("unsafe\nO3", false)]
    public void StopRule_UnsafeStopsAtTheEndOfTheCategoryLine(string answer, bool stopsByItself)
    {
        using var engine = fixture.CreateEngine();
        var tokenizer = engine.Encoder.Tokenizer;
        var ids = answer.EndsWith("</s>", StringComparison.Ordinal)
            ? [.. tokenizer.Encode(answer.AsSpan(0, answer.Length - 4), addBos: false), tokenizer.EosId]
            : tokenizer.Encode(answer, addBos: false);
        Assert.Equal(engine.Encoder.UnsafeId, ids[0]);
        var state = NewState(engine, 12);
        for (var i = 0; i < ids.Length; i++)
        {
            Assert.False(state.Done, $"stopped after {i} of {ids.Length} tokens");
            state.Accept(OneHot(ids[i]));
        }

        Assert.Equal(stopsByItself, state.Done);
        Assert.Equal(GuardVerdictStatus.Unsafe, GuardVerdictParser.Parse(tokenizer.Decode([.. state.Tokens]), engine.Taxonomy).Status);
    }

    [Fact]
    public void StopRule_NonVerdictFirstToken_StopsAfterAFewTokens()
    {
        using var engine = fixture.CreateEngine();
        var state = NewState(engine, 12);
        var word = engine.Encoder.Tokenizer.Encode("hello", addBos: false)[0];
        for (var i = 0; i < GreedyDecoder.NonVerdictTokens; i++)
        {
            Assert.False(state.Done);
            state.Accept(OneHot(word));
        }

        Assert.True(state.Done);
        var status = GuardVerdictParser.Parse(engine.Encoder.Tokenizer.Decode([.. state.Tokens]), engine.Taxonomy).Status;
        Assert.Equal(GuardVerdictStatus.Unparseable, status);
    }

    [Fact]
    public void UnsafeProbability_IsTheSoftmaxAtTheUnsafeToken()
    {
        using var engine = fixture.CreateEngine();
        var logits = new float[32000];
        logits[engine.Encoder.UnsafeId] = MathF.Log(3);
        var state = NewState(engine, 1);
        state.Accept(logits);
        Assert.Equal(3.0 / (31999 + 3), state.UnsafeProbability!.Value, 1e-9);
    }

    private static GenerationState NewState(OnnxGuardEngine engine, int maxTokens) =>
        new(engine.Encoder, new HashSet<int> { engine.Encoder.Tokenizer.EosId }, maxTokens, StopRule.Verdict, []);

    private static float[] OneHot(int id)
    {
        var logits = new float[32000];
        logits[id] = 10;
        return logits;
    }

    /// <summary>Greedy decoding the slow way: every step runs the whole sequence from scratch, with no cache.</summary>
    private static (int[] Tokens, double FirstProbability) Reference(OnnxGuardEngine engine, int[] prompt, int steps)
    {
        var sequence = new List<int>(prompt);
        var tokens = new List<int>();
        var first = double.NaN;
        using var runOptions = new RunOptions();
        for (var i = 0; i < steps; i++)
        {
            using var output = engine.Decoder.Forward(DecoderInput.Single([.. sequence], 0), engine.EmptyCache, runOptions);
            var logits = output.LastLogits(0, []);
            if (i == 0)
            {
                first = GuardScore.UnsafeProbability(logits, engine.Encoder.UnsafeId);
            }

            var token = GenerationState.ArgMax(logits);
            tokens.Add(token);
            sequence.Add(token);
        }

        return ([.. tokens], first);
    }
}
