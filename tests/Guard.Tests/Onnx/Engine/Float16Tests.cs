using Guard.Conversations;
using Guard.Onnx.Builder;
using Guard.Onnx.Models;
using Guard.Prompts;

namespace Guard.Tests.Onnx.Engine;

/// <summary>A float16 graph (half-precision logits and KV cache), standard or fused, runs through the same engine code.</summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class Float16Tests(TinyModelFixture fixture)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Float16Model_ReusesThePrefix_AndAgreesWithItsFullRun(bool fused)
    {
        var dir = Path.Combine(Path.GetDirectoryName(fixture.ModelDirectory)!, fused ? "lg1-tiny-fp16-fused" : "lg1-tiny-fp16");
        if (!Directory.Exists(dir))
        {
            LlamaOnnxBuilder.Build(
                new RandomLlamaWeights(TinyModelFixture.Config, 1234, 0.5f),
                new LlamaBuildOptions { Family = GuardFamily.LlamaGuard1, ModelId = "test/llamaguard-tiny-random-fp16", TokenizerSource = fixture.TokenizerJson, DType = OnnxDType.Float16, LastTokenLogitsOnly = true, FusedOperators = fused },
                dir);
        }

        using var reuse = fixture.CreateEngine(modelDirectory: dir);
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false, dir);
        using var fp32 = fixture.CreateEngine();
        foreach (var conversation in Conversations.All().Take(4))
        {
            var a = await reuse.ClassifyAsync(conversation, CancellationToken.None);
            var b = await full.ClassifyAsync(conversation, CancellationToken.None);
            var c = await fp32.ClassifyAsync(conversation, CancellationToken.None);
            // Half precision: the split into prefix and tail rounds differently, so the tolerance is fp16's, not fp32's.
            Assert.Equal(b.UnsafeProbability!.Value, a.UnsafeProbability!.Value, 0.05 * b.UnsafeProbability.Value);
            Assert.Equal(c.UnsafeProbability!.Value, a.UnsafeProbability.Value, 0.25 * c.UnsafeProbability.Value);
        }

        Assert.Equal(4, reuse.Statistics.PrefixHits);
    }
}
