using Guard.Engines;
using Guard.Onnx.Engine;
using Guard.Tokenizers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Guarding;

/// <summary>Creates the configured guard engine once; <see cref="Engine"/> is null when none is configured.</summary>
public sealed partial class GuardEngineProvider : IDisposable
{
    private readonly HttpClient? _http;

    /// <summary>Builds the engine from options; invalid options stop start-up with every problem listed.</summary>
    public GuardEngineProvider(IOptions<GuardOptions> options, TimeProvider time, ILogger<GuardEngineProvider> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var o = options.Value;
        if (o.Engine == GuardEngineKind.None)
        {
            LogNoEngine(logger);
            return;
        }
        if (o.Engine == GuardEngineKind.Onnx)
        {
            var onnx = OnnxGuardEngine.Create(o.Onnx);
            foreach (var warning in onnx.Warnings)
            {
                LogEngineWarning(logger, onnx.Name, warning);
            }
            Engine = onnx;
            LogEngine(logger, onnx.Name, onnx.Model, onnx.Family.ToString());
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
        LogEngine(logger, Engine.Name, Engine.Model, Engine.Family.ToString());
    }

    /// <summary>Uses a given engine (tests, embedding hosts).</summary>
    public GuardEngineProvider(IGuardEngine engine) => Engine = engine;

    /// <summary>The engine, or null.</summary>
    public IGuardEngine? Engine { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        _http?.Dispose();
        (Engine as IDisposable)?.Dispose();
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Guard engine {Engine} serving {Model} ({Family})")]
    private static partial void LogEngine(ILogger logger, string engine, string model, string family);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Guard engine {Engine}: {Warning}")]
    private static partial void LogEngineWarning(ILogger logger, string engine, string warning);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "No guard engine configured (Guard:Engine is None)")]
    private static partial void LogNoEngine(ILogger logger);
}
