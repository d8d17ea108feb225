using Gateway.Tokens;
using Guard.Tokenizers;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Tokens;

public sealed class PromptTokenizersTests
{
    [Fact]
    public void ConfiguredFamily_LoadsOnce_AcrossThreads()
    {
        var logger = new ListLogger<PromptTokenizers>();
        var tokenizers = TokenizerSetup.Both(logger);
        var seen = new ITokenizer?[64];

        Parallel.For(0, seen.Length, i => seen[i] = tokenizers.Get(TokenizerFamilies.Llama2));

        Assert.NotNull(seen[0]);
        Assert.All(seen, t => Assert.Same(seen[0], t));
        Assert.Equal(TokenizerFamilies.Llama2, seen[0]!.Family);
        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Information, entry.Level);
        Assert.StartsWith("Counting llama2 prompt tokens with the tokenizer in ", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RelativePath_IsResolvedAgainstTheContentRoot()
    {
        var cache = Path.GetDirectoryName(Path.GetDirectoryName(BootstrapTokenizers.Directory("llama3")))!;
        var tokenizers = TokenizerSetup.WithContentRoot(cache, null, ("llama3", "tokenizers/llama3"));

        Assert.Equal(TokenizerFamilies.Llama3, tokenizers.Get(TokenizerFamilies.Llama3)?.Family);
    }

    [Theory]
    [InlineData(null, "Gateway:Tokenizers:llama2 is not set")]
    [InlineData("", "Gateway:Tokenizers:llama2 is not set")]
    [InlineData("/nonexistent/tokenizer-dir", "model directory not found")]
    public void UnavailableTokenizer_IsNull_AndLoggedOnce(string? path, string reason)
    {
        var logger = new ListLogger<PromptTokenizers>();
        var tokenizers = TokenizerSetup.With(logger, ("llama2", path));

        Assert.Null(tokenizers.Get(TokenizerFamilies.Llama2));
        Assert.Null(tokenizers.Get(TokenizerFamilies.Llama2));

        var entry = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, entry.Level);
        Assert.Contains(reason, entry.Message, StringComparison.Ordinal);
        Assert.Contains("estimated from their UTF-8 bytes", entry.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TokenizerOfAnotherFamily_IsNotUsed()
    {
        var logger = new ListLogger<PromptTokenizers>();
        var tokenizers = TokenizerSetup.With(logger, ("llama2", BootstrapTokenizers.Directory("llama3")));

        Assert.Null(tokenizers.Get(TokenizerFamilies.Llama2));
        Assert.Contains("holds a llama3 tokenizer", Assert.Single(logger.Entries).Message, StringComparison.Ordinal);
    }
}
