using Guard.Onnx.Builder;
using Guard.Onnx.Engine;
using Guard.Onnx.Models;
using Guard.Prompts;
using Guard.Tests.Tokenizers;

namespace Guard.Tests.Onnx.Engine;

/// <summary>
/// Builds, once per test run, tiny Llama Guard 1 models from seeded random weights with the model builder (the real
/// Llama 2 vocabulary of 32,000 tokens, hidden size 64, 2 layers, grouped-query attention) into a temporary
/// directory, with the generated Llama 2 test tokenizer next to them.
/// </summary>
public sealed class TinyModelFixture : IDisposable
{
    /// <summary>The tiny model's dimensions: small enough to build and run in a moment, shaped like LlamaGuard-7b.</summary>
    public static readonly LlamaConfig Config = new()
    {
        VocabSize = 32000,
        HiddenSize = 64,
        IntermediateSize = 128,
        NumLayers = 2,
        NumHeads = 4,
        NumKvHeadsConfigured = 2,
        MaxPositions = 2048,
        RopeTheta = 10000,
        RmsNormEps = 1e-5,
        BosTokenId = 1,
        EosTokenId = 2,
    };

    private readonly string _root;
    private int _copies;

    public TinyModelFixture()
    {
        var tokenizers = new TokenizerFixture();
        TokenizerJson = Path.Combine(tokenizers.Llama2Directory, "tokenizer.json");
        Llama3TokenizerJson = Path.Combine(tokenizers.Llama3Directory, "tokenizer.json");
        _root = Path.Combine(Path.GetTempPath(), "guard-onnx-engine-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_root);
        ModelDirectory = Build("lg1-tiny", Config, seed: 1234, lastTokenLogitsOnly: true);
        AllLogitsModelDirectory = Build("lg1-tiny-all-logits", Config, seed: 1234, lastTokenLogitsOnly: false);
        SharedPrefixModelDirectory = Build("lg1-tiny-shared-prefix", Config, seed: 1234, lastTokenLogitsOnly: true, sharedPrefix: true);
        FusedModelDirectory = Build("lg1-tiny-fused", Config, seed: 1234, lastTokenLogitsOnly: true, fused: true);
    }

    /// <summary>The float32 tiny model directory (manifest, graph, tokenizer); its graph returns the last position's logits only.</summary>
    public string ModelDirectory { get; }

    /// <summary>The same weights in a graph that returns the logits of every position.</summary>
    public string AllLogitsModelDirectory { get; }

    /// <summary>The same weights in a shared-prefix graph (the prefix cache is an input of its own, docs/adr/006).</summary>
    public string SharedPrefixModelDirectory { get; }

    /// <summary>The same weights in a fused graph (ONNX Runtime's contrib operators, docs/adr/013-fused-graph.md).</summary>
    public string FusedModelDirectory { get; }

    /// <summary>The generated Llama 2 test tokenizer.</summary>
    public string TokenizerJson { get; }

    /// <summary>The generated Llama 3 test tokenizer (128,256 tokens), for vocabulary mismatches.</summary>
    public string Llama3TokenizerJson { get; }

    /// <summary>Creates an engine over the tiny model.</summary>
    /// <param name="configure">Changes to the default options (CPU, prefix reuse on).</param>
    /// <param name="modelDirectory">Another model directory than <see cref="ModelDirectory"/>.</param>
    /// <param name="time">The engine's clock; null: the system clock.</param>
    public OnnxGuardEngine CreateEngine(Action<OnnxGuardEngineOptions>? configure = null, string? modelDirectory = null, TimeProvider? time = null)
    {
        var options = new OnnxGuardEngineOptions { ModelDirectory = modelDirectory ?? ModelDirectory, IntraOpThreads = 1, MaxConcurrency = 4 };
        configure?.Invoke(options);
        return OnnxGuardEngine.Create(options, time: time);
    }

    /// <summary>A fresh copy of the model directory that a test may break.</summary>
    public string CopyModel()
    {
        var target = Path.Combine(_root, "copy-" + Interlocked.Increment(ref _copies));
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(ModelDirectory))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }

        return target;
    }

    /// <summary>Builds another model into the fixture's temporary directory, with the Llama 2 test tokenizer.</summary>
    /// <param name="name">The directory name.</param>
    /// <param name="config">The dimensions.</param>
    /// <param name="seed">The weight seed.</param>
    /// <param name="lastTokenLogitsOnly">Whether the graph returns only the last position's logits.</param>
    /// <param name="sharedPrefix">Whether the graph takes the prefix cache as an input of its own.</param>
    /// <param name="fused">Whether the graph uses ONNX Runtime's contrib operators.</param>
    public string Build(string name, LlamaConfig config, int seed, bool lastTokenLogitsOnly = true, bool sharedPrefix = false, bool fused = false)
    {
        var dir = Path.Combine(_root, name);
        LlamaOnnxBuilder.Build(
            new RandomLlamaWeights(config, seed, 0.5f),
            new LlamaBuildOptions { Family = GuardFamily.LlamaGuard1, ModelId = "test/llamaguard-tiny-random", TokenizerSource = TokenizerJson, LastTokenLogitsOnly = lastTokenLogitsOnly, SharedPrefix = sharedPrefix, FusedOperators = fused },
            dir);
        return dir;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
            // A session may still map a file on some platforms; the temp directory is cleaned by the OS.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>The engine tests share one tiny model and run alone: the memory and concurrency measurements are
/// process-wide, and other collections' allocations would blur them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class OnnxEngineTestGroup : ICollectionFixture<TinyModelFixture>
{
    public const string Name = "OnnxEngine";
}
