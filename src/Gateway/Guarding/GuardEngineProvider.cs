using Guard.Engines;
using Guard.Tokenizers;
using Microsoft.Extensions.Options;

namespace Gateway.Guarding;

/// <summary>Creates the configured guard engine once; <see cref="Engine"/> is null when none is configured.</summary>
public sealed class GuardEngineProvider : IDisposable
{
    private readonly HttpClient? _http;

    /// <summary>Builds the engine from options; invalid options stop start-up with every problem listed.</summary>
    public GuardEngineProvider(IOptions<GuardOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        if (o.Engine == GuardEngineKind.None)
        {
            return;
        }
        var errors = o.Remote.Validate(workersAi: o.Engine == GuardEngineKind.WorkersAi);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid guard configuration:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
        }
        Func<string, int>? countTokens = null;
        if (!string.IsNullOrEmpty(o.TokenizerPath))
        {
            var tokenizer = TokenizerLoader.Load(o.TokenizerPath);
            countTokens = text => tokenizer.CountTokens(text);
        }
        // Attempts are timed by the engine; the pooled handler recycles connections so DNS changes are seen.
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        Engine = o.Engine == GuardEngineKind.WorkersAi
            ? new WorkersAiGuardEngine(o.Remote, _http, time, countTokens)
            : new OpenAiGuardEngine(o.Remote, _http, time, countTokens);
    }

    /// <summary>Uses a given engine (tests, embedding hosts).</summary>
    public GuardEngineProvider(IGuardEngine engine) => Engine = engine;

    /// <summary>The engine, or null.</summary>
    public IGuardEngine? Engine { get; }

    /// <inheritdoc />
    public void Dispose() => _http?.Dispose();
}
