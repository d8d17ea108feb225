using System.Text.Json;
using System.Text.Json.Serialization;
using Guard.Onnx.Models;
using Guard.Prompts;
using Guard.Tokenizers;

namespace Guard.Onnx.Engine;

/// <summary>A model directory whose manifest, graph file and tokenizer have been found and checked against each other.</summary>
internal sealed class ModelDirectory
{
    private static readonly JsonSerializerOptions ManifestJson = new()
    {
        Converters = { new JsonStringEnumConverter() },
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private ModelDirectory(string path, string manifestPath, ModelManifest manifest, string graphPath, string tokenizerPath, ITokenizer tokenizer)
    {
        Path = path;
        ManifestPath = manifestPath;
        Manifest = manifest;
        GraphPath = graphPath;
        TokenizerPath = tokenizerPath;
        Tokenizer = tokenizer;
    }

    /// <summary>The directory.</summary>
    public string Path { get; }

    /// <summary>The manifest file.</summary>
    public string ManifestPath { get; }

    /// <summary>The manifest.</summary>
    public ModelManifest Manifest { get; }

    /// <summary>The graph file the manifest names.</summary>
    public string GraphPath { get; }

    /// <summary>The tokenizer file used (tokenizer.json, else tokenizer.model).</summary>
    public string TokenizerPath { get; }

    /// <summary>The tokenizer.</summary>
    public ITokenizer Tokenizer { get; }

    /// <summary>Reads and cross-checks the directory's files; every failure names the file and the mismatch.</summary>
    /// <param name="directory">The model directory.</param>
    /// <param name="warnings">Non-fatal findings, for the host to log.</param>
    /// <exception cref="OnnxModelLoadException">A file is missing or does not fit the others.</exception>
    public static ModelDirectory Load(string directory, List<string> warnings)
    {
        var dir = System.IO.Path.GetFullPath(directory);
        if (!Directory.Exists(dir))
        {
            throw new OnnxModelLoadException(dir, "model directory not found (Guard:Onnx:ModelDirectory)", null);
        }

        var manifestPath = System.IO.Path.Combine(dir, ModelManifest.FileName);
        var manifest = ReadManifest(manifestPath);
        CheckConfig(manifestPath, manifest);

        var graphPath = System.IO.Path.Combine(dir, manifest.Graph);
        if (!File.Exists(graphPath))
        {
            throw new OnnxModelLoadException(graphPath, $"graph file not found (named by {manifestPath}: graph = \"{manifest.Graph}\")", null);
        }

        var tokenizerPath = File.Exists(System.IO.Path.Combine(dir, TokenizerLoader.HuggingFaceFileName))
            ? System.IO.Path.Combine(dir, TokenizerLoader.HuggingFaceFileName)
            : System.IO.Path.Combine(dir, TokenizerLoader.SentencePieceFileName);
        ITokenizer tokenizer;
        try
        {
            tokenizer = TokenizerLoader.Load(dir);
        }
        catch (TokenizerLoadException ex)
        {
            var file = ex.FilePath ?? tokenizerPath;
            var problem = ex.Message.StartsWith(file + ": ", StringComparison.Ordinal) ? ex.Message[(file.Length + 2)..] : ex.Message;
            throw new OnnxModelLoadException(file, $"tokenizer could not be loaded: {problem}", ex);
        }

        CheckTokenizer(tokenizerPath, tokenizer, manifestPath, manifest, warnings);
        if (manifest.RandomWeights)
        {
            warnings.Add($"{manifestPath}: the model has random weights ({manifest.Source}); its verdicts are meaningless. Use it for tests and benchmarks only.");
        }

        return new ModelDirectory(dir, manifestPath, manifest, graphPath, tokenizerPath, tokenizer);
    }

    private static ModelManifest ReadManifest(string manifestPath)
    {
        if (!File.Exists(manifestPath))
        {
            throw new OnnxModelLoadException(manifestPath, "manifest not found; a model directory is written by the model builder (manifest.json, model.onnx, tokenizer)", null);
        }

        try
        {
            using var stream = File.OpenRead(manifestPath);
            return JsonSerializer.Deserialize<ModelManifest>(stream, ManifestJson)
                ?? throw new OnnxModelLoadException(manifestPath, "the manifest is null", null);
        }
        catch (JsonException ex)
        {
            throw new OnnxModelLoadException(manifestPath, $"invalid manifest at {ex.Path ?? "$"}: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new OnnxModelLoadException(manifestPath, $"the manifest could not be read: {ex.Message}", ex);
        }
    }

    private static void CheckConfig(string manifestPath, ModelManifest manifest)
    {
        var errors = new List<string>();
        if (manifest.Format != 1)
        {
            errors.Add($"format is {manifest.Format}; this engine reads format 1");
        }

        if (!Enum.IsDefined(manifest.Family))
        {
            errors.Add($"family {manifest.Family} is not a Llama Guard family");
        }

        if (manifest.DType is not ("float32" or "float16"))
        {
            errors.Add($"dtype is \"{manifest.DType}\"; expected \"float32\" or \"float16\"");
        }

        if (string.IsNullOrWhiteSpace(manifest.ModelId))
        {
            errors.Add("model_id is empty");
        }

        if (string.IsNullOrWhiteSpace(manifest.Graph) || System.IO.Path.IsPathRooted(manifest.Graph) || manifest.Graph.Contains("..", StringComparison.Ordinal))
        {
            errors.Add($"graph \"{manifest.Graph}\" must be a file name inside the model directory");
        }

        CheckDigest(manifest, errors);
        if (manifest.Config is null)
        {
            errors.Add("config is missing");
        }
        else
        {
            errors.AddRange(LlamaConfigValidator.Validate(manifest.Config).Select(e => "config." + e));
        }

        if (errors.Count > 0)
        {
            throw new OnnxModelLoadException(manifestPath, string.Join("; ", errors), null);
        }
    }

    private static void CheckDigest(ModelManifest manifest, List<string> errors)
    {
        if (manifest.WeightsSha256 is { } digest && !ModelDigest.IsSha256Hex(digest))
        {
            errors.Add($"weights_sha256 \"{digest}\" is not 64 hex digits");
        }

        if (manifest.WeightsFiles is not { } files)
        {
            return;
        }

        if (manifest.WeightsSha256 is null)
        {
            errors.Add("weights_files is given without weights_sha256");
        }

        var fileErrors = ModelDigest.Check(files);
        fileErrors.AddRange(files.Where(f => f?.Name is { Length: > 0 } name && (System.IO.Path.IsPathRooted(name) || name.Split('/', '\\').Contains("..")))
            .Select(f => $"name \"{f.Name}\" must be a path inside the model directory"));
        if (fileErrors.Count > 0)
        {
            errors.AddRange(fileErrors.Select(e => "weights_files" + (e.StartsWith('[') ? e : " " + e)));
        }
        else if (manifest.WeightsSha256 is { } recorded && ModelDigest.IsSha256Hex(recorded)
            && !string.Equals(ModelDigest.Combine(files), recorded, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add("weights_sha256 is not the digest of weights_files (the manifest was edited by hand?); rebuild the model directory");
        }
    }

    private static void CheckTokenizer(string tokenizerPath, ITokenizer tokenizer, string manifestPath, ModelManifest manifest, List<string> warnings)
    {
        var config = manifest.Config;
        if (tokenizer.VocabSize != config.VocabSize)
        {
            throw new OnnxModelLoadException(
                tokenizerPath,
                $"the tokenizer has {tokenizer.VocabSize} tokens but the model ({manifestPath}: config.vocab_size) has {config.VocabSize}; the tokenizer does not belong to this model",
                null);
        }

        var expectedFamily = manifest.Family == GuardFamily.LlamaGuard1 ? TokenizerFamilies.Llama2 : TokenizerFamilies.Llama3;
        if (tokenizer.Family != expectedFamily)
        {
            throw new OnnxModelLoadException(
                tokenizerPath,
                $"the tokenizer is of the {tokenizer.Family} family but {manifest.Family} ({manifestPath}: family) uses {expectedFamily}",
                null);
        }

        if (tokenizer.BosId != config.BosTokenId)
        {
            throw new OnnxModelLoadException(
                tokenizerPath,
                $"the tokenizer's BOS id is {tokenizer.BosId} but the model's config.bos_token_id ({manifestPath}) is {config.BosTokenId}",
                null);
        }

        if (tokenizer.EosId != config.EosTokenId && !tokenizer.StopIds.Contains(config.EosTokenId))
        {
            warnings.Add($"{tokenizerPath}: the model's config.eos_token_id {config.EosTokenId} is not among the tokenizer's stop ids ({string.Join(", ", tokenizer.StopIds)}); generation stops at the tokenizer's.");
        }
    }
}
