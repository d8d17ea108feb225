using Gateway.Configuration;
using Gateway.Tokens;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Tokens;

/// <summary>Builds <see cref="PromptTokenizers"/> over the bootstrap's tokenizer directories.</summary>
internal static class TokenizerSetup
{
    /// <summary>Both families configured with absolute paths.</summary>
    public static PromptTokenizers Both(ListLogger<PromptTokenizers>? logger = null) =>
        With(logger, ("llama2", BootstrapTokenizers.Directory("llama2")), ("llama3", BootstrapTokenizers.Directory("llama3")));

    public static PromptTokenizers With(ListLogger<PromptTokenizers>? logger, params (string Family, string? Path)[] directories) =>
        WithContentRoot(AppContext.BaseDirectory, logger, directories);

    public static PromptTokenizers WithContentRoot(string contentRoot, ListLogger<PromptTokenizers>? logger, params (string Family, string? Path)[] directories)
    {
        var options = new GatewayOptions();
        foreach (var (family, path) in directories)
        {
            options.Tokenizers[family] = path;
        }
        return new PromptTokenizers(Options.Create(options), new HostingEnvironment { ContentRootPath = contentRoot },
            logger ?? new ListLogger<PromptTokenizers>());
    }
}
