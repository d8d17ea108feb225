using System.Diagnostics;
using System.Text.Json;
using Guard.Tokenizers;

namespace Guard.Tests.Tokenizers;

/// <summary>
/// Produces the test tokenizer files, the corpus and the oracle ids by running tests/Guard.Tests/js/generate-fixtures.mjs
/// (idempotent: it returns at once when its output is current) and loads them once for all tokenizer tests.
/// </summary>
public sealed class TokenizerFixture
{
    private static readonly TimeSpan GeneratorTimeout = TimeSpan.FromMinutes(10);
    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };
    private readonly Lazy<Corpus> _corpus;
    private readonly Lazy<ITokenizer> _llama2;
    private readonly Lazy<ITokenizer> _llama2SentencePiece;
    private readonly Lazy<ITokenizer> _llama3;

    public TokenizerFixture()
    {
        JsDirectory = FindJsDirectory();
        GeneratedDirectory = Path.Combine(JsDirectory, "generated");
        RunGenerator(JsDirectory);
        _corpus = new(() => Read<Corpus>(Path.Combine(GeneratedDirectory, "corpus.json")));
        _llama2 = new(() => TokenizerLoader.Load(Llama2Directory));
        _llama2SentencePiece = new(() => TokenizerLoader.Load(Path.Combine(GeneratedDirectory, "llama2-sentencepiece")));
        _llama3 = new(() => TokenizerLoader.Load(Llama3Directory));
    }

    public string JsDirectory { get; }

    public string GeneratedDirectory { get; }

    public string Llama2Directory => Path.Combine(GeneratedDirectory, "llama2");

    public string Llama3Directory => Path.Combine(GeneratedDirectory, "llama3");

    public Corpus Corpus => _corpus.Value;

    /// <summary>Gets the Llama 2 tokenizer loaded from the generated tokenizer.json.</summary>
    public ITokenizer Llama2 => _llama2.Value;

    /// <summary>Gets the Llama 2 tokenizer loaded from the generated tokenizer.model.</summary>
    public ITokenizer Llama2SentencePiece => _llama2SentencePiece.Value;

    /// <summary>Gets the Llama 3 tokenizer loaded from the generated tokenizer.json.</summary>
    public ITokenizer Llama3 => _llama3.Value;

    public Oracle ReadOracle(string family) => Read<Oracle>(Path.Combine(GeneratedDirectory, family, "oracle.json"));

    /// <summary>Finds tests/Guard.Tests/js by walking up from the test binaries.</summary>
    public static string FindJsDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "js"), Path.Combine(dir.FullName, "tests", "Guard.Tests", "js") })
            {
                if (File.Exists(Path.Combine(candidate, "generate-fixtures.mjs")))
                {
                    return candidate;
                }
            }
        }

        throw new InvalidOperationException($"tests/Guard.Tests/js not found above {AppContext.BaseDirectory}");
    }

    /// <summary>Runs a node script in the js folder and returns its standard output; fails clearly when node_modules is missing.</summary>
    public static string RunNode(string jsDirectory, string arguments, TimeSpan timeout)
    {
        if (!Directory.Exists(Path.Combine(jsDirectory, "node_modules", "llama-tokenizer-js"))
            || !Directory.Exists(Path.Combine(jsDirectory, "node_modules", "llama3-tokenizer-js")))
        {
            throw new InvalidOperationException(
                $"The JavaScript tokenizer oracles are not installed in {Path.Combine(jsDirectory, "node_modules")}: run ./eng/bootstrap.sh --tests");
        }

        var start = new ProcessStartInfo("node", arguments)
        {
            WorkingDirectory = jsDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        Process? started;
        try
        {
            started = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("node (Node.js 20 or later) is not on PATH; install it and run ./eng/bootstrap.sh --tests", ex);
        }

        using var process = started ?? throw new InvalidOperationException("node could not be started");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true); // the node process this fixture started, by its id
            throw new TimeoutException($"node {arguments} did not finish within {timeout}");
        }

        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"node {arguments} failed with exit code {process.ExitCode}: {stderr.Result}{stdout.Result}");
        }

        return stdout.Result;
    }

    private static void RunGenerator(string jsDirectory)
    {
        // One generator at a time, across test processes too (e.g. the benchmark started beside the tests).
        using var gate = new Mutex(false, "Global\\guard-tokenizer-fixtures");
        try
        {
            gate.WaitOne(GeneratorTimeout);
        }
        catch (AbandonedMutexException)
        {
            // The previous holder died; the generator's stamp check makes a rerun safe.
        }

        try
        {
            RunNode(jsDirectory, "generate-fixtures.mjs", GeneratorTimeout);
        }
        finally
        {
            gate.ReleaseMutex();
        }
    }

    private static T Read<T>(string path)
    {
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize<T>(stream, JsonOptions)
            ?? throw new InvalidDataException($"{path} is empty");
    }
}
