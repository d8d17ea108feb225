using System.Text.Json.Nodes;
using Guard.Conversations;
using Guard.Onnx.Builder;
using Guard.Onnx.Engine;
using Guard.Onnx.Models;
using Guard.Prompts;

namespace Guard.Tests.Onnx.Engine;

/// <summary>
/// Llama Guard 3 and 2 on a tiny random model with the real Llama 3 vocabulary (128,256 tokens): control tokens in the
/// prefix, no second BOS for Llama Guard 3, the <c>\n\n</c> lead-in before the verdict position, and prefix reuse.
/// </summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class Llama3FamilyTests(TinyModelFixture fixture)
{
    private static readonly LlamaConfig Config = TinyModelFixture.Config with
    {
        VocabSize = 128256,
        BosTokenId = 128000,
        EosTokenId = 128009,
        RopeTheta = 500000,
    };

    [Fact]
    public async Task LlamaGuard3_ReadsTheVerdictAfterTheLeadIn_AndReusesThePrefix()
    {
        var dir = Build("lg3-tiny", GuardFamily.LlamaGuard3);
        using var reuse = fixture.CreateEngine(modelDirectory: dir);
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false, dir);
        Assert.Equal(GuardFamily.LlamaGuard3, reuse.Family);
        Assert.Equal(19193, reuse.Encoder.SafeId);
        Assert.Equal(39257, reuse.Encoder.UnsafeId);
        Assert.Equal([271], reuse.Encoder.LeadIn);

        var (ids, _) = reuse.EncodeConversation(GuardConversation.ForPrompt("How do I bake bread?"));
        // " <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n..." : the template's own BOS, no second one.
        Assert.Equal(128000, ids[1]);
        Assert.Single(ids, 128000);
        Assert.Equal(271, ids[^1]);
        Assert.Equal(128007, ids[^2]); // <|end_header_id|> closes the assistant header before the lead-in

        foreach (var conversation in Conversations.All())
        {
            var a = await reuse.ClassifyAsync(conversation, CancellationToken.None);
            var b = await full.ClassifyAsync(conversation, CancellationToken.None);
            Assert.Equal(b.UnsafeProbability!.Value, a.UnsafeProbability!.Value, 1e-4 * b.UnsafeProbability.Value);
            Assert.Equal(b.RawOutput, a.RawOutput);
            Assert.StartsWith("\n\n", a.RawOutput, StringComparison.Ordinal);
        }

        Assert.Equal(Conversations.All().Count(), reuse.Statistics.PrefixHits);
    }

    [Fact]
    public async Task LlamaGuard2_StartsWithBos_AndReusesThePrefix()
    {
        var dir = Build("lg2-tiny", GuardFamily.LlamaGuard2);
        using var reuse = fixture.CreateEngine(modelDirectory: dir);
        using var full = fixture.CreateEngine(o => o.PrefixReuse = false, dir);
        Assert.Empty(reuse.Encoder.LeadIn);
        var (ids, _) = reuse.EncodeConversation(GuardConversation.ForPrompt("Hi"));
        Assert.Equal(128000, ids[0]);
        foreach (var conversation in Conversations.All().Take(4))
        {
            var a = await reuse.ClassifyAsync(conversation, CancellationToken.None);
            var b = await full.ClassifyAsync(conversation, CancellationToken.None);
            Assert.Equal(b.UnsafeProbability!.Value, a.UnsafeProbability!.Value, 1e-4 * b.UnsafeProbability.Value);
        }

        Assert.Equal(4, reuse.Statistics.PrefixHits);
    }

    [Fact]
    public void Llama2TokenizerForALlamaGuard3Model_IsAStartupErrorNamingTheFamily()
    {
        var dir = fixture.CopyModel();
        var manifestPath = Path.Combine(dir, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(manifestPath))!.AsObject();
        manifest["family"] = "LlamaGuard3";
        File.WriteAllText(manifestPath, manifest.ToJsonString());
        var ex = Assert.Throws<OnnxModelLoadException>(() => OnnxGuardEngine.Create(new OnnxGuardEngineOptions { ModelDirectory = dir }));
        Assert.Equal(Path.Combine(dir, "tokenizer.json"), ex.FilePath);
        Assert.Contains("llama2", ex.Message, StringComparison.Ordinal);
        Assert.Contains("llama3", ex.Message, StringComparison.Ordinal);
    }

    private string Build(string name, GuardFamily family)
    {
        var dir = Path.Combine(Path.GetDirectoryName(fixture.ModelDirectory)!, name);
        if (!File.Exists(Path.Combine(dir, "manifest.json")))
        {
            LlamaOnnxBuilder.Build(
                new RandomLlamaWeights(Config, 99, 0.5f),
                new LlamaBuildOptions
                {
                    Family = family,
                    ModelId = "test/" + name,
                    TokenizerSource = Path.GetDirectoryName(fixture.Llama3TokenizerJson),
                    LastTokenLogitsOnly = true,
                },
                dir);
        }

        return dir;
    }
}
