using System.Collections.Concurrent;
using Gateway.Configuration;
using Guard.Tokenizers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Tokens;

/// <summary>The tokenizers prompts are counted with, one per family, each loaded once on first use from
/// <c>Gateway:Tokenizers:{family}</c> (a directory; relative to the content root) and shared by every request.</summary>
/// <remarks>A family whose tokenizer is not configured or does not load gives null, and the reason is logged once;
/// callers then estimate (<see cref="TokenBounds.Estimate"/>).</remarks>
internal sealed partial class PromptTokenizers(IOptions<GatewayOptions> options, IHostEnvironment environment, ILogger<PromptTokenizers> logger)
{
    private readonly ConcurrentDictionary<string, Lazy<ITokenizer?>> _tokenizers = new(StringComparer.Ordinal);

    /// <summary>The family's tokenizer, or null when none is available.</summary>
    /// <param name="family">A <see cref="TokenizerFamilies"/> constant.</param>
    public ITokenizer? Get(string family) =>
        _tokenizers.GetOrAdd(family, f => new Lazy<ITokenizer?>(() => Load(f), LazyThreadSafetyMode.ExecutionAndPublication)).Value;

    private ITokenizer? Load(string family)
    {
        var key = $"{GatewayOptions.SectionName}:Tokenizers:{family}";
        if (!options.Value.Tokenizers.TryGetValue(family, out var configured) || string.IsNullOrWhiteSpace(configured))
        {
            LogEstimating(logger, family, $"{key} is not set");
            return null;
        }
        var directory = Path.GetFullPath(configured, environment.ContentRootPath);
        try
        {
            var tokenizer = TokenizerLoader.Load(directory);
            if (tokenizer.Family != family)
            {
                LogEstimating(logger, family, $"{key} ({directory}) holds a {tokenizer.Family} tokenizer");
                return null;
            }
            LogLoaded(logger, family, directory, tokenizer.VocabSize);
            return tokenizer;
        }
        catch (Exception ex) when (ex is TokenizerLoadException or IOException or UnauthorizedAccessException)
        {
            LogEstimating(logger, family, $"{key}: {ex.Message}");
            return null;
        }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Counting {Family} prompt tokens with the tokenizer in {Directory} ({VocabSize} tokens)")]
    private static partial void LogLoaded(ILogger logger, string family, string directory, int vocabSize);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "No {Family} tokenizer ({Reason}); prompts of that family are estimated from their UTF-8 bytes against context windows")]
    private static partial void LogEstimating(ILogger logger, string family, string reason);
}
