namespace Guard.Tokenizers;

/// <summary>
/// Loads the tokenizer of a model directory: its Hugging Face tokenizer.json, or else its SentencePiece
/// tokenizer.model; the family (Llama 2 or Llama 3) is recognised from the file's contents.
/// </summary>
public static class TokenizerLoader
{
    /// <summary>The Hugging Face tokenizer file name.</summary>
    public const string HuggingFaceFileName = "tokenizer.json";

    /// <summary>The SentencePiece model file name.</summary>
    public const string SentencePieceFileName = "tokenizer.model";

    /// <summary>Loads the tokenizer of a model directory, preferring tokenizer.json over tokenizer.model.</summary>
    /// <param name="modelDirectory">The directory holding the tokenizer files.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="TokenizerLoadException">No tokenizer file, a corrupt one, or an unknown family; the message names the file and field.</exception>
    public static ITokenizer Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        if (!Directory.Exists(modelDirectory))
        {
            throw new TokenizerLoadException(modelDirectory, null, "model directory not found");
        }

        var json = Path.Combine(modelDirectory, HuggingFaceFileName);
        if (File.Exists(json))
        {
            return LoadHuggingFace(json);
        }

        var model = Path.Combine(modelDirectory, SentencePieceFileName);
        if (File.Exists(model))
        {
            return LoadSentencePiece(model);
        }

        throw new TokenizerLoadException(
            modelDirectory, null, $"no tokenizer: expected {HuggingFaceFileName} (Hugging Face) or {SentencePieceFileName} (SentencePiece)");
    }

    /// <summary>Loads a Hugging Face tokenizer.json, with the BOS and EOS tokens of a tokenizer_config.json next to it.</summary>
    /// <param name="tokenizerJsonPath">The tokenizer.json file.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="TokenizerLoadException">A missing or corrupt file or an unknown family; the message names the file and field.</exception>
    public static ITokenizer LoadHuggingFace(string tokenizerJsonPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenizerJsonPath);
        if (!File.Exists(tokenizerJsonPath))
        {
            throw new TokenizerLoadException(tokenizerJsonPath, null, "file not found");
        }

        var configPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(tokenizerJsonPath))!, TokenizerConfigFile.FileName);
        var config = File.Exists(configPath) ? TokenizerConfigFile.Read(configPath) : null;
        return HuggingFaceTokenizerReader.Read(tokenizerJsonPath, config);
    }

    /// <summary>Loads a SentencePiece tokenizer.model of BPE type (the Llama 2 family).</summary>
    /// <param name="tokenizerModelPath">The tokenizer.model file.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="TokenizerLoadException">A missing or corrupt file or an unsupported model; the message names the file and field.</exception>
    public static ITokenizer LoadSentencePiece(string tokenizerModelPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(tokenizerModelPath);
        if (!File.Exists(tokenizerModelPath))
        {
            throw new TokenizerLoadException(tokenizerModelPath, null, "file not found");
        }

        return SentencePieceModelReader.Read(tokenizerModelPath);
    }
}
