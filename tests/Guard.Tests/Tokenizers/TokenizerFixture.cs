using System.Diagnostics;
using System.Text.Json;
using Guard.Tokenizers;

namespace Guard.Tests.Tokenizers;

/// <summary>
/// Produces the test tokenizer files, the corpus and the oracle ids by running tests/Guard.Tests/js/generate-fixtures.mjs
/// (idempotent: it returns at once when its output is current) and loads them once for all tokenizer tests. The
/// SentencePiece oracle (tests/Guard.Tests/js/sentencepiece-oracle.py, also idempotent) runs on first use.
/// </summary>
public sealed class TokenizerFixture
{
    private static readonly TimeSpan GeneratorTimeout = TimeSpan.FromMinutes(10);
    private static readonly JsonSerializerOptions JsonOptions = new() { PropertyNameCaseInsensitive = true };
    private readonly Lazy<Corpus> _corpus;
    private readonly Lazy<ITokenizer> _llama2;
    private readonly Lazy<ITokenizer> _llama2SentencePiece;
    private readonly Lazy<ITokenizer> _llama3;
    private readonly Lazy<Oracle> _sentencePieceOracle;

    public TokenizerFixture()
    {
        JsDirectory = FindJsDirectory();
        GeneratedDirectory = Path.Combine(JsDirectory, "generated");
        RunGenerator(JsDirectory);
        _corpus = new(() => Read<Corpus>(Path.Combine(GeneratedDirectory, "corpus.json")));
        _llama2 = new(() => TokenizerLoader.Load(Llama2Directory));
        _llama2SentencePiece = new(() => TokenizerLoader.Load(Path.Combine(GeneratedDirectory, "llama2-sentencepiece")));
        _llama3 = new(() => TokenizerLoader.Load(Llama3Directory));
        _sentencePieceOracle = new(() =>
        {
            RunSentencePieceOracle(JsDirectory);
            return ReadOracle("llama2-sentencepiece");
        });
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

    /// <summary>
    /// Gets Google's SentencePiece ids for the corpus (Llama 2 vocabulary), computed once by sentencepiece-oracle.py
    /// with the Python binding of the C++ library (Debian package python3-sentencepiece) and cached in generated/.
    /// </summary>
    /// <exception cref="InvalidOperationException">No python3 on this machine can import sentencepiece.</exception>
    public Oracle SentencePieceOracle => _sentencePieceOracle.Value;

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

        (int ExitCode, string Stdout, string Stderr) result;
        try
        {
            result = RunProcess("node", arguments, jsDirectory, timeout);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("node (Node.js 20 or later) is not on PATH; install it and run ./eng/bootstrap.sh --tests", ex);
        }

        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"node {arguments} failed with exit code {result.ExitCode}: {result.Stderr}{result.Stdout}");
        }

        return result.Stdout;
    }

    /// <summary>
    /// Runs sentencepiece-oracle.py with the first python3 that can import sentencepiece: the one on PATH, else the
    /// system one (/usr/bin/python3, where Debian's python3-sentencepiece installs the module; a python3 on PATH from
    /// pyenv or a virtual environment does not see it). Fails, never skips, when none can.
    /// </summary>
    private static void RunSentencePieceOracle(string jsDirectory)
    {
        using var gate = new Mutex(false, "Global\\guard-tokenizer-fixtures");
        try
        {
            gate.WaitOne(GeneratorTimeout);
        }
        catch (AbandonedMutexException)
        {
            // The previous holder died; the script's stamp check makes a rerun safe.
        }

        try
        {
            var tried = new List<string>();
            foreach (var python in new[] { "python3", "/usr/bin/python3" })
            {
                (int ExitCode, string Stdout, string Stderr) result;
                try
                {
                    result = RunProcess(python, "sentencepiece-oracle.py", jsDirectory, GeneratorTimeout);
                }
                catch (System.ComponentModel.Win32Exception)
                {
                    tried.Add($"{python}: not found");
                    continue;
                }

                if (result.ExitCode == 0)
                {
                    return;
                }

                if (result.ExitCode != 3)
                {
                    throw new InvalidOperationException($"{python} sentencepiece-oracle.py failed with exit code {result.ExitCode}: {result.Stderr}{result.Stdout}");
                }

                tried.Add($"{python}: cannot import sentencepiece");
            }

            throw new InvalidOperationException(
                "Google's SentencePiece, the third Llama 2 oracle, is not installed: install the Debian package python3-sentencepiece " +
                $"(apt-get install python3-sentencepiece; .ci/run does this on a bare machine). Tried {string.Join(", ", tried)}.");
        }
        finally
        {
            gate.ReleaseMutex();
        }
    }

    private static (int ExitCode, string Stdout, string Stderr) RunProcess(string fileName, string arguments, string workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(fileName, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} could not be started");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true); // the process this fixture started, by its id
            throw new TimeoutException($"{fileName} {arguments} did not finish within {timeout}");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
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
