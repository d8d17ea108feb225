using Guard.Tokenizers;

namespace Gateway.Tests.Tokens;

/// <summary>The real Llama 2 and Llama 3 tokenizers that eng/bootstrap.sh exports into eng/.cache/tokenizers, loaded once.</summary>
internal static class BootstrapTokenizers
{
    private static readonly Lazy<ITokenizer> Llama2Tokenizer = new(() => TokenizerLoader.Load(Directory(TokenizerFamilies.Llama2)));
    private static readonly Lazy<ITokenizer> Llama3Tokenizer = new(() => TokenizerLoader.Load(Directory(TokenizerFamilies.Llama3)));

    public static ITokenizer Llama2 => Llama2Tokenizer.Value;

    public static ITokenizer Llama3 => Llama3Tokenizer.Value;

    public static ITokenizer For(string family) => family == TokenizerFamilies.Llama3 ? Llama3 : Llama2;

    /// <summary>eng/.cache/tokenizers/{family} in this clone.</summary>
    public static string Directory(string family)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln")))
            {
                var path = Path.Combine(dir.FullName, "eng", ".cache", "tokenizers", family);
                return File.Exists(Path.Combine(path, TokenizerLoader.HuggingFaceFileName))
                    ? path
                    : throw new InvalidOperationException($"{path}/tokenizer.json is missing: run ./eng/bootstrap.sh first.");
            }
        }
        throw new InvalidOperationException("Gateway.sln not found above " + AppContext.BaseDirectory);
    }
}
