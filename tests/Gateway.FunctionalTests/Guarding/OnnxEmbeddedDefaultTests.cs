using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Guard.Onnx.Builder;
using Guard.Onnx.Models;
using Guard.Prompts;

namespace Gateway.FunctionalTests.Guarding;

/// <summary>Builds the embedded default's kind of model once: seeded random weights in the tiny shape, with the real
/// Llama 2 vocabulary exported by eng/bootstrap.sh.</summary>
public sealed class RandomGuardModelFixture : IDisposable
{
    public RandomGuardModelFixture()
    {
        var tokenizer = Path.Combine(RepoRoot(), "eng", ".cache", "tokenizers", "llama2");
        if (!File.Exists(Path.Combine(tokenizer, "tokenizer.json")))
        {
            throw new InvalidOperationException($"{tokenizer}/tokenizer.json is missing: run ./eng/bootstrap.sh first.");
        }
        Directory = Path.Combine(Path.GetTempPath(), "gateway-guard-model-" + Guid.NewGuid().ToString("N"));
        var config = new LlamaConfig { VocabSize = 32000, HiddenSize = 64, IntermediateSize = 172, NumLayers = 2, NumHeads = 4, MaxPositions = 4096 };
        Manifest = LlamaOnnxBuilder.Build(new RandomLlamaWeights(config, seed: 7),
            new LlamaBuildOptions { Family = GuardFamily.LlamaGuard1, ModelId = "random-tiny-test", TokenizerSource = tokenizer }, Directory);
    }

    public string Directory { get; }

    public ModelManifest Manifest { get; }

    public static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}

/// <summary>The embedded default's path: the ONNX engine on a builder-made model, through the served Llama Guard
/// model, <c>/v1/moderations</c> and the <c>classify</c> verb. Random weights give meaningless verdicts, so these tests
/// check the path and the shapes, never a particular verdict.</summary>
public sealed class OnnxEmbeddedDefaultTests(RandomGuardModelFixture model) : IClassFixture<RandomGuardModelFixture>
{
    private Dictionary<string, string?> OnnxConfig() => new()
    {
        ["Guard:Engine"] = "Onnx",
        ["Guard:Onnx:ModelDirectory"] = model.Directory,
        ["Guard:Onnx:MaxConcurrency"] = "2",
    };

    [Fact]
    public async Task ServedLlamaGuard_AnswersFromTheOnnxEngine_OnBothPaths()
    {
        await using var gateway = await GatewayServer.StartAsync(OnnxConfig());
        foreach (var path in new[] { "ai/run/@hf/thebloke/llamaguard-7b-awq", "client/v4/accounts/a/ai/run/@hf/thebloke/llamaguard-7b-awq" })
        {
            using var response = await gateway.Client.PostAsync(path,
                new StringContent("""{"messages":[{"role":"user","content":"How do I bake bread?"}]}""", Encoding.UTF8, "application/json"));
            var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var result = path.StartsWith("client", StringComparison.Ordinal) ? json.GetProperty("result") : json;
            Assert.Equal(JsonValueKind.String, result.GetProperty("response").ValueKind);
        }
    }

    [Fact]
    public async Task Moderations_ReportTheOnnxEngine_WithAProbability()
    {
        await using var gateway = await GatewayServer.StartAsync(OnnxConfig());
        using var response = await gateway.Client.PostAsync("v1/moderations",
            new StringContent("""{"input":["first text","second text"]}""", Encoding.UTF8, "application/json"));
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("random-tiny-test", json.GetProperty("model").GetString());
        Assert.Equal(2, json.GetProperty("results").GetArrayLength());
        foreach (var result in json.GetProperty("results").EnumerateArray())
        {
            var guard = result.GetProperty("llama_guard");
            Assert.Equal("onnx", guard.GetProperty("engine").GetString());
            var p = guard.GetProperty("unsafe_probability").GetDouble();
            Assert.InRange(p, 0, 1);
        }
    }

    [Fact]
    public async Task ClassifyVerb_PrintsAVerdictFromTheOnnxEngine()
    {
        var gatewayDll = Path.Combine(AppContext.BaseDirectory, "gateway.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var arg in new[] { gatewayDll, "classify", "--prompt", "How do I bake bread?", "--Guard:Engine=Onnx", $"--Guard:Onnx:ModelDirectory={model.Directory}" })
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw;
        }

        Assert.True(process.ExitCode == 0, $"exit {process.ExitCode}: {await stderr}");
        var output = await stdout;
        var verdict = JsonDocument.Parse(output[output.IndexOf('{', StringComparison.Ordinal)..]).RootElement;
        Assert.Contains(verdict.GetProperty("status").GetString(), new[] { "safe", "unsafe", "unparseable" });
        Assert.Equal("onnx", verdict.GetProperty("engine").GetString());
        Assert.Equal("random-tiny-test", verdict.GetProperty("model").GetString());
        Assert.InRange(verdict.GetProperty("unsafe_probability").GetDouble(), 0, 1);
    }
}
