using System.Text.Json;

namespace Guard.Tokenizers;

/// <summary>The fields of a Hugging Face tokenizer_config.json that choose the BOS and EOS tokens.</summary>
/// <param name="Path">The file.</param>
/// <param name="BosToken">The <c>bos_token</c> text, or <see langword="null"/> when not set.</param>
/// <param name="EosToken">The <c>eos_token</c> text, or <see langword="null"/> when not set.</param>
internal sealed record TokenizerConfigFile(string Path, string? BosToken, string? EosToken)
{
    /// <summary>The file name next to tokenizer.json.</summary>
    public const string FileName = "tokenizer_config.json";

    /// <summary>Reads the file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The BOS and EOS settings.</returns>
    public static TokenizerConfigFile Read(string path)
    {
        using var doc = JsonFile.Parse(path);
        var f = new JsonFields(path);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw f.Error(null, "expected a JSON object");
        }

        return new TokenizerConfigFile(path, TokenText(f, doc.RootElement, "bos_token"), TokenText(f, doc.RootElement, "eos_token"));
    }

    /// <summary>Resolves a token named by this file or, when it names none, the first default the vocabulary has.</summary>
    /// <param name="config">The config file, or <see langword="null"/> when the directory has none.</param>
    /// <param name="field">Which token: <c>bos_token</c> or <c>eos_token</c>.</param>
    /// <param name="specials">The control tokens of the vocabulary.</param>
    /// <param name="tokenizerPath">The tokenizer file, named in the error when no default exists.</param>
    /// <param name="defaults">The token texts to try when the config does not name one.</param>
    /// <returns>The token id.</returns>
    public static int ResolveId(TokenizerConfigFile? config, string field, SpecialTokenSet specials, string tokenizerPath, params string[] defaults)
    {
        var named = field == "bos_token" ? config?.BosToken : config?.EosToken;
        if (named is not null)
        {
            return specials.TryGetId(named, out var id)
                ? id
                : throw new TokenizerLoadException(config!.Path, field, $"'{named}' is not a special token of {tokenizerPath}");
        }

        foreach (var text in defaults)
        {
            if (specials.TryGetId(text, out var id))
            {
                return id;
            }
        }

        throw new TokenizerLoadException(tokenizerPath, "added_tokens", $"no {field} among the special tokens (expected one of {string.Join(", ", defaults)})");
    }

    private static string? TokenText(JsonFields f, JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Object => f.RequiredString(value, "content", $"{name}.content"),
            _ => throw f.Error(name, "expected a string or an object with 'content'"),
        };
    }
}
