using Gateway.FunctionalTests.Guarding;
using Guard.Tokenizers;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>The real tokenizers eng/bootstrap.sh exports into eng/.cache/tokenizers, for configuring the gateway
/// (<c>Gateway:Tokenizers:{family}</c>) and for computing token counts independently in tests.</summary>
public static class BootstrapTokenizers
{
    private static readonly Lazy<ITokenizer> Llama2Tokenizer = new(() => TokenizerLoader.Load(Directory(TokenizerFamilies.Llama2)));

    public static ITokenizer Llama2 => Llama2Tokenizer.Value;

    public static string Directory(string family)
    {
        var path = Path.Combine(RandomGuardModelFixture.RepoRoot(), "eng", ".cache", "tokenizers", family);
        return File.Exists(Path.Combine(path, TokenizerLoader.HuggingFaceFileName))
            ? path
            : throw new InvalidOperationException($"{path}/tokenizer.json is missing: run ./eng/bootstrap.sh first.");
    }

    /// <summary>Gateway configuration that counts both families with the bootstrap's tokenizers.</summary>
    public static Dictionary<string, string?> Configured(Dictionary<string, string?> configuration)
    {
        configuration["Gateway:Tokenizers:llama2"] = Directory(TokenizerFamilies.Llama2);
        configuration["Gateway:Tokenizers:llama3"] = Directory(TokenizerFamilies.Llama3);
        return configuration;
    }
}
