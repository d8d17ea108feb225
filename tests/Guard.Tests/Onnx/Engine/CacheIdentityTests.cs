using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Guard.Conversations;
using Guard.Engines;
using Guard.Onnx.Builder;
using Guard.Onnx.Engine;
using Guard.Onnx.Models;
using Guard.Prompts;
using Guard.Tests.Onnx.Builder;
using Xunit.Abstractions;

namespace Guard.Tests.Onnx.Engine;

/// <summary>The ONNX engine's cache identity: the manifest's model digest, or the file-listing stand-in with a warning.</summary>
[Collection(OnnxEngineTestGroup.Name)]
public sealed class CacheIdentityTests(TinyModelFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void Identity_HoldsTheManifestsModelDigestTokenizerAndAnswerSettings()
    {
        using var engine = Start(fixture.ModelDirectory);
        var manifest = ModelManifest.Read(fixture.ModelDirectory);
        var tokenizerDigest = ModelDigestTests.IndependentDigest(fixture.ModelDirectory, ["tokenizer.json"]);
        Assert.False(File.Exists(Path.Combine(fixture.ModelDirectory, "tokenizer_config.json")));
        output.WriteLine(engine.CacheIdentity);

        Assert.Matches("^[0-9a-f]{64}$", manifest.WeightsSha256);
        Assert.Equal(
            $"onnx|family=LlamaGuard1|model=test/llamaguard-tiny-random|dtype=float32|weights=sha256:{manifest.WeightsSha256}|tokenizer=sha256:{tokenizerDigest}|context=2048|answer_tokens=12",
            engine.CacheIdentity);
        Assert.Equal(engine.CacheIdentity, ((IGuardEngine)engine).CacheIdentity);
        Assert.DoesNotContain(engine.Warnings, w => w.Contains("weights_sha256", StringComparison.Ordinal));
    }

    [Fact]
    public void Identity_IsTheSameForACopyOfTheModel_AndIgnoresNameProviderThreadsAndPrefixReuse()
    {
        using var a = Start(fixture.ModelDirectory);
        using var b = OnnxGuardEngine.Create(
            new OnnxGuardEngineOptions { ModelDirectory = fixture.CopyModel(), PrefixReuse = false, IntraOpThreads = 2, MaxConcurrency = 1 },
            name: "another-name");

        Assert.Equal(a.CacheIdentity, b.CacheIdentity);
    }

    [Fact]
    public void Identity_ChangesWithTheAnswerTokensContextAndTokenizer()
    {
        var tokenizerChanged = fixture.CopyModel();
        File.AppendAllText(Path.Combine(tokenizerChanged, "tokenizer.json"), "\n");
        string[] identities =
        [
            Identity(fixture.ModelDirectory),
            Identity(fixture.ModelDirectory, o => o.MaxCategoryTokens = 8),
            Identity(fixture.ModelDirectory, o => o.ContextTokens = 1024),
            Identity(tokenizerChanged),
            Identity(fixture.AllLogitsModelDirectory),
        ];

        Assert.Equal(identities.Length, identities.Distinct().Count());
    }

    [Fact]
    public void ManifestWithoutDigest_FallsBackToTheFileListing_AndWarnsHowToRebuild()
    {
        var dir = fixture.CopyModel();
        EditManifest(dir, m =>
        {
            m.Remove("weights_sha256");
            m.Remove("weights_files");
        });

        using var engine = Start(dir);
        output.WriteLine(engine.CacheIdentity);
        output.WriteLine(string.Join("\n", engine.Warnings));

        Assert.Contains("|weights=files-sha256:", engine.CacheIdentity, StringComparison.Ordinal);
        Assert.DoesNotContain("|weights=sha256:", engine.CacheIdentity, StringComparison.Ordinal);
        var warning = Assert.Single(engine.Warnings, w => w.Contains("predates model digests", StringComparison.Ordinal));
        Assert.Contains("manifest.json", warning, StringComparison.Ordinal);
        Assert.Contains("gateway build-model", warning, StringComparison.Ordinal);

        // The stand-in is stable while the files stay, and changes when a file's time or size changes.
        Assert.Equal(engine.CacheIdentity, Identity(dir));
        var graph = Path.Combine(dir, "model.onnx");
        File.SetLastWriteTimeUtc(graph, File.GetLastWriteTimeUtc(graph).AddSeconds(-10));
        var touched = Identity(dir);
        Assert.NotEqual(engine.CacheIdentity, touched);
        var config = Path.Combine(dir, "config.json");
        var written = File.GetLastWriteTimeUtc(config);
        File.AppendAllText(config, " ");
        File.SetLastWriteTimeUtc(config, written);
        Assert.NotEqual(touched, Identity(dir));
    }

    [Fact]
    public void FileListingDigest_IsTheDocumentedRule()
    {
        var dir = fixture.CopyModel();
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        File.WriteAllText(Path.Combine(dir, "sub", "extra.bin"), "12345");
        var lines = Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => (Name: Path.GetRelativePath(dir, f).Replace('\\', '/'), Info: new FileInfo(f)))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .Select(f => $"{f.Info.Length} {f.Info.LastWriteTimeUtc.Ticks} {f.Name}\n");
        var expected = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(string.Concat(lines))));

        Assert.Equal(expected, ModelIdentity.FileListingDigest(dir));
    }

    [Fact]
    public void DataFileOfAnotherLength_FallsBackToTheFileListing_AndWarns()
    {
        var dir = BuildExternal("external-appended");
        using (var engine = Start(dir))
        {
            Assert.Contains("|weights=sha256:" + ModelManifest.Read(dir).WeightsSha256 + "|", engine.CacheIdentity, StringComparison.Ordinal);
        }

        using (var data = new FileStream(Path.Combine(dir, "model.onnx.data"), FileMode.Append))
        {
            data.Write(new byte[4096]);
        }

        using var changed = Start(dir);
        output.WriteLine(string.Join("\n", changed.Warnings));
        Assert.Contains("|weights=files-sha256:", changed.CacheIdentity, StringComparison.Ordinal);
        var warning = Assert.Single(changed.Warnings, w => w.Contains("weights_sha256", StringComparison.Ordinal));
        Assert.Contains("model.onnx.data has", warning, StringComparison.Ordinal);
        Assert.Contains("gateway build-model", warning, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-hex", "weights_sha256 \"not-hex\" is not 64 hex digits")]
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000", "weights_sha256 is not the digest of weights_files")]
    public void ManifestWithABadDigest_NamesTheManifestAndTheField(string digest, string expected)
    {
        var dir = fixture.CopyModel();
        EditManifest(dir, m => m["weights_sha256"] = digest);

        var ex = Assert.Throws<OnnxModelLoadException>(() => Identity(dir));

        Assert.Equal(Path.Combine(dir, "manifest.json"), ex.FilePath);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ManifestWithAFileOutsideTheDirectory_IsRefused()
    {
        var dir = fixture.CopyModel();
        EditManifest(dir, m => m["weights_files"]![0]!["name"] = "../model.onnx");

        var ex = Assert.Throws<OnnxModelLoadException>(() => Identity(dir));

        Assert.Contains("must be a path inside the model directory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FormatDigest_MatchesEveryEngineOfTheFamily_ForItsOwnAndACustomTaxonomy()
    {
        using var engine = Start(fixture.ModelDirectory);
        using var other = Start(fixture.CopyModel());
        using var http = new HttpClient();
        var remote = new OpenAiGuardEngine(new RemoteGuardOptions { BaseAddress = new Uri("http://localhost:1/"), Family = GuardFamily.LlamaGuard1 }, http, TimeProvider.System);
        var custom = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, new GuardTaxonomyConfig { Remove = ["O6"] });

        foreach (var role in new[] { GuardRole.User, GuardRole.Agent })
        {
            Assert.Equal(LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard1, null, role), engine.GetPromptFormatDigest(null, role));
            Assert.Equal(remote.GetPromptFormatDigest(null, role), engine.GetPromptFormatDigest(GuardTaxonomy.LlamaGuard1, role));
            Assert.Equal(remote.GetPromptFormatDigest(custom, role), engine.GetPromptFormatDigest(custom, role));
            Assert.Equal(other.GetPromptFormatDigest(custom, role), engine.GetPromptFormatDigest(custom, role));
            Assert.NotEqual(engine.GetPromptFormatDigest(null, role), engine.GetPromptFormatDigest(custom, role));
        }

        Assert.Throws<ArgumentException>(() => engine.GetPromptFormatDigest(GuardTaxonomy.LlamaGuard3, GuardRole.User));
    }

    private string Identity(string dir, Action<OnnxGuardEngineOptions>? configure = null)
    {
        using var engine = Start(dir, configure);
        return engine.CacheIdentity;
    }

    private OnnxGuardEngine Start(string dir, Action<OnnxGuardEngineOptions>? configure = null) =>
        fixture.CreateEngine(o =>
        {
            o.PrefixReuse = false;
            configure?.Invoke(o);
        }, dir);

    private string BuildExternal(string name)
    {
        var dir = Path.Combine(Path.GetDirectoryName(fixture.ModelDirectory)!, name);
        LlamaOnnxBuilder.Build(
            new RandomLlamaWeights(TinyModelFixture.Config, 1234, 0.5f),
            new LlamaBuildOptions { Family = GuardFamily.LlamaGuard1, ModelId = "test/llamaguard-tiny-random", TokenizerSource = fixture.TokenizerJson, ExternalData = true },
            dir);
        return dir;
    }

    private static void EditManifest(string dir, Action<JsonObject> edit)
    {
        var path = Path.Combine(dir, "manifest.json");
        var manifest = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(manifest);
        File.WriteAllText(path, manifest.ToJsonString());
    }
}
