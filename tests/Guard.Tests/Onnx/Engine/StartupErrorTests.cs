using System.Text.Json.Nodes;
using Guard.Conversations;
using Guard.Onnx.Engine;
using Xunit.Abstractions;

namespace Guard.Tests.Onnx.Engine;

/// <summary>Bad model directories and settings stop start-up with an error that names the file (or setting) and the mismatch.</summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class StartupErrorTests(TinyModelFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void MissingManifest_NamesTheManifest()
    {
        var dir = fixture.CopyModel();
        File.Delete(Path.Combine(dir, "manifest.json"));
        var ex = Fails(dir);
        Assert.Equal(Path.Combine(dir, "manifest.json"), ex.FilePath);
        Assert.Contains("manifest not found", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingDirectory_NamesTheDirectory()
    {
        var dir = Path.Combine(fixture.CopyModel(), "nope");
        var ex = Fails(dir);
        Assert.Equal(dir, ex.FilePath);
    }

    [Fact]
    public void CorruptManifest_NamesTheManifestAndWhere()
    {
        var dir = fixture.CopyModel();
        File.WriteAllText(Path.Combine(dir, "manifest.json"), "{ \"model_id\": \"x\", \"family\": \"LlamaGuard9\" }");
        var ex = Fails(dir);
        Assert.Equal(Path.Combine(dir, "manifest.json"), ex.FilePath);
        Assert.Contains("family", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingGraph_NamesTheGraphFile()
    {
        var dir = fixture.CopyModel();
        var graph = Manifest(dir)["graph"]!.GetValue<string>();
        File.Delete(Path.Combine(dir, graph));
        var ex = Fails(dir);
        Assert.Equal(Path.Combine(dir, graph), ex.FilePath);
        Assert.Contains("graph file not found", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GraphThatIsNotOnnx_NamesTheGraphFile()
    {
        var dir = fixture.CopyModel();
        var graph = Path.Combine(dir, Manifest(dir)["graph"]!.GetValue<string>());
        File.WriteAllText(graph, "not a protobuf");
        var ex = Fails(dir);
        Assert.Equal(graph, ex.FilePath);
        Assert.Contains("cannot load the graph", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingTokenizer_NamesTheDirectoryAndTheExpectedFiles()
    {
        var dir = fixture.CopyModel();
        File.Delete(Path.Combine(dir, "tokenizer.json"));
        var ex = Fails(dir);
        Assert.Contains("tokenizer.json", ex.Message, StringComparison.Ordinal);
        Assert.Contains("tokenizer.model", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith(dir, ex.FilePath, StringComparison.Ordinal);
    }

    [Fact]
    public void TokenizerOfAnotherVocabulary_NamesTheTokenizerAndBothSizes()
    {
        var dir = fixture.CopyModel();
        File.Copy(fixture.Llama3TokenizerJson, Path.Combine(dir, "tokenizer.json"), overwrite: true);
        var ex = Fails(dir);
        Assert.Equal(Path.Combine(dir, "tokenizer.json"), ex.FilePath);
        Assert.Contains("128256", ex.Message, StringComparison.Ordinal);
        Assert.Contains("32000", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestWithMoreLayersThanTheGraph_NamesTheGraphAndTheMissingInputs()
    {
        var dir = fixture.CopyModel();
        EditConfig(dir, c => c["num_hidden_layers"] = 3);
        var ex = Fails(dir);
        Assert.EndsWith(".onnx", ex.FilePath, StringComparison.Ordinal);
        Assert.Contains("input 'past_key_values.2.key' is missing", ex.Message, StringComparison.Ordinal);
        Assert.Contains("manifest.json", ex.Message, StringComparison.Ordinal);
        Assert.Contains("output 'present.2.value' is missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestWithFewerLayersThanTheGraph_NamesTheExtraInputs()
    {
        var dir = fixture.CopyModel();
        EditConfig(dir, c => c["num_hidden_layers"] = 1);
        var ex = Fails(dir);
        Assert.EndsWith(".onnx", ex.FilePath, StringComparison.Ordinal);
        Assert.Contains("past_key_values.1.key", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("num_key_value_heads", 4, "has num_key_value_heads 2 (dimension 1), but the manifest's config gives 4")]
    [InlineData("hidden_size", 128, "(hidden_size / num_attention_heads) 16 (dimension 3), but the manifest's config gives 32")]
    [InlineData("vocab_size", 32001, "tokenizer has 32000 tokens but the model")]
    public void ManifestDimensionsThatDisagreeWithTheGraphOrTokenizer_NameTheFileAndTheMismatch(string field, int value, string expected)
    {
        var dir = fixture.CopyModel();
        EditConfig(dir, c => c[field] = value);
        var ex = Fails(dir);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains("manifest.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestDtypeThatDisagreesWithTheGraph_NamesTheTypes()
    {
        var dir = fixture.CopyModel();
        var manifest = Manifest(dir);
        manifest["dtype"] = "float16";
        File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest.ToJsonString());
        var ex = Fails(dir);
        Assert.Contains("expected Float16", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidOptions_ListEveryProblem()
    {
        var ex = Assert.Throws<OnnxModelLoadException>(() => OnnxGuardEngine.Create(new OnnxGuardEngineOptions { ModelDirectory = "", MaxConcurrency = 0, MaxCategoryTokens = 0 }));
        Assert.Contains("ModelDirectory", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxConcurrency", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxCategoryTokens", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ContextLargerThanTheModel_NamesTheSettingAndTheManifest()
    {
        var ex = Assert.Throws<OnnxModelLoadException>(() => fixture.CreateEngine(o => o.ContextTokens = 100_000));
        Assert.Equal("Guard:Onnx:ContextTokens", ex.FilePath);
        Assert.Contains("max_position_embeddings", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ContextTooSmallForTheFixedPrompt_IsAStartupError()
    {
        var ex = Assert.Throws<OnnxModelLoadException>(() => fixture.CreateEngine(o => o.ContextTokens = 512));
        Assert.Equal("Guard:Onnx:ContextTokens", ex.FilePath);
    }

    [Fact]
    public void RandomWeights_AreReportedAsAWarning()
    {
        using var engine = fixture.CreateEngine();
        Assert.Contains(engine.Warnings, w => w.Contains("random weights", StringComparison.Ordinal) && w.Contains("meaningless", StringComparison.Ordinal));
        Assert.Equal("CPUExecutionProvider", engine.ExecutionProvider);
    }

    [Fact]
    public void CudaWithoutAGpuBuild_FailsClearly_WhenFallbackIsFail()
    {
        var ex = Assert.Throws<OnnxModelLoadException>(() => fixture.CreateEngine(o => o.Provider = OnnxExecutionProvider.Cuda));
        Assert.Equal("Guard:Onnx:Provider", ex.FilePath);
        Assert.Contains("CUDA was configured but cannot be used", ex.Message, StringComparison.Ordinal);
        Assert.Contains("CudaFallback", ex.Message, StringComparison.Ordinal);
        output.WriteLine(ex.Message);
    }

    [Fact]
    public void CudaProviderLibraryThatDoesNotExist_NamesThePath()
    {
        var path = Path.Combine(fixture.CopyModel(), "libonnxruntime_providers_cuda.so");
        var ex = Assert.Throws<OnnxModelLoadException>(() => fixture.CreateEngine(o =>
        {
            o.Provider = OnnxExecutionProvider.Cuda;
            o.CudaProviderLibraryPath = path;
        }));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CudaUnavailable_WithUseCpu_RunsOnTheCpuAndWarns()
    {
        using var engine = fixture.CreateEngine(o =>
        {
            o.Provider = OnnxExecutionProvider.Cuda;
            o.CudaFallback = CudaFallback.UseCpu;
        });
        Assert.Equal("CPUExecutionProvider", engine.ExecutionProvider);
        Assert.Contains(engine.Warnings, w => w.Contains("Falling back to the CPU", StringComparison.Ordinal));
        output.WriteLine(string.Join("\n", engine.Warnings));
        var verdict = await engine.ClassifyAsync(GuardConversation.ForPrompt("Hi"), CancellationToken.None);
        Assert.NotNull(verdict.UnsafeProbability);
    }

    private OnnxModelLoadException Fails(string dir)
    {
        var ex = Assert.Throws<OnnxModelLoadException>(() => OnnxGuardEngine.Create(new OnnxGuardEngineOptions { ModelDirectory = dir }));
        output.WriteLine(ex.Message);
        return ex;
    }

    private static JsonObject Manifest(string dir) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "manifest.json")))!.AsObject();

    private static void EditConfig(string dir, Action<JsonObject> edit)
    {
        var manifest = Manifest(dir);
        edit(manifest["config"]!.AsObject());
        File.WriteAllText(Path.Combine(dir, "manifest.json"), manifest.ToJsonString());
    }
}
