using System.Collections.Frozen;
using Guard.Engines;
using Guard.Onnx.Engine;
using Guard.Tokenizers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Guarding;

/// <summary>Creates the configured guard engines once and keeps them by name; <see cref="Engine"/>, the default, is
/// null when none is configured.</summary>
public sealed partial class GuardEngineProvider : IDisposable
{
    private readonly HttpClient? _http;

    /// <summary>Builds the engines from options; invalid options stop start-up with every problem listed.</summary>
    /// <exception cref="InvalidOperationException">The options are invalid; the message lists every problem.</exception>
    /// <exception cref="OnnxModelLoadException">An ONNX engine's model could not be loaded.</exception>
    public GuardEngineProvider(IOptions<GuardOptions> options, TimeProvider time, ILogger<GuardEngineProvider> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var plan = options.Value.Plan();
        if (plan.Errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid guard configuration:" + Environment.NewLine + string.Join(Environment.NewLine, plan.Errors));
        }
        if (plan.Engines.Count == 0)
        {
            LogNoEngine(logger);
            Engines = FrozenDictionary<string, IGuardEngine>.Empty;
            return;
        }

        var engines = new Dictionary<string, IGuardEngine>(StringComparer.OrdinalIgnoreCase);
        try
        {
            foreach (var spec in plan.Engines)
            {
                engines.Add(spec.Name, Create(spec, time, logger, ref _http));
            }
        }
        catch
        {
            // The engines already made are released when a later one cannot start.
            foreach (var engine in engines.Values)
            {
                (engine as IDisposable)?.Dispose();
            }
            _http?.Dispose();
            throw;
        }
        Engines = engines.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        DefaultName = plan.DefaultEngine!;
        Engine = Engines[DefaultName];
        if (Engines.Count > 1)
        {
            LogDefaultEngine(logger, DefaultName, string.Join(", ", Engines.Keys.Order(StringComparer.OrdinalIgnoreCase)));
        }
    }

    /// <summary>Uses a given engine, under its own <see cref="IGuardEngine.Name"/>, as the only and default one (tests, embedding hosts).</summary>
    public GuardEngineProvider(IGuardEngine engine)
    {
        ArgumentNullException.ThrowIfNull(engine);
        Engines = new Dictionary<string, IGuardEngine> { [engine.Name] = engine }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        DefaultName = engine.Name;
        Engine = engine;
    }

    /// <summary>Uses given engines under the given names (tests, embedding hosts).</summary>
    /// <param name="engines">The engines by name; names are not blank and differ ignoring case.</param>
    /// <param name="defaultEngine">The name of the default engine, one of <paramref name="engines"/> (case ignored).</param>
    /// <exception cref="ArgumentException">No engines, a blank or duplicate name, or a default that is not among them.</exception>
    public GuardEngineProvider(IEnumerable<KeyValuePair<string, IGuardEngine>> engines, string defaultEngine)
    {
        ArgumentNullException.ThrowIfNull(engines);
        ArgumentException.ThrowIfNullOrWhiteSpace(defaultEngine);
        var byName = new Dictionary<string, IGuardEngine>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, engine) in engines)
        {
            if (string.IsNullOrWhiteSpace(name) || engine is null)
            {
                throw new ArgumentException("Every engine needs a non-blank name and an engine.", nameof(engines));
            }
            if (!byName.TryAdd(name, engine))
            {
                throw new ArgumentException($"The engine name '{name}' appears more than once (names ignore case).", nameof(engines));
            }
        }
        if (byName.Count == 0)
        {
            throw new ArgumentException("At least one engine is needed.", nameof(engines));
        }
        Engines = byName.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        DefaultName = Engines.Keys.FirstOrDefault(k => string.Equals(k, defaultEngine, StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"The default engine '{defaultEngine}' is not one of the engines ({string.Join(", ", Engines.Keys)}).", nameof(defaultEngine));
        Engine = Engines[DefaultName];
    }

    /// <summary>The default engine (the served Llama Guard model, <c>/v1/moderations</c>, the command line and
    /// policies that name no engine use it), or null when none is configured.</summary>
    public IGuardEngine? Engine { get; }

    /// <summary>The default engine's name, or null when none is configured.</summary>
    public string? DefaultName { get; }

    /// <summary>Every engine by its configured name, ignoring case; empty when none is configured.</summary>
    public IReadOnlyDictionary<string, IGuardEngine> Engines { get; }

    /// <summary>The engine named <paramref name="name"/> (case ignored), the default for null, or null when there is no such engine.</summary>
    public IGuardEngine? Get(string? name) =>
        name is null ? Engine : Engines.TryGetValue(name, out var engine) ? engine : null;

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var engine in Engines.Values)
        {
            (engine as IDisposable)?.Dispose();
        }
        _http?.Dispose();
    }

    private static IGuardEngine Create(GuardEngineSpec spec, TimeProvider time, ILogger logger, ref HttpClient? http)
    {
        if (spec.Kind == GuardEngineKind.Onnx)
        {
            OnnxGuardEngine onnx;
            try
            {
                onnx = OnnxGuardEngine.Create(spec.Onnx, spec.Name, time);
            }
            catch (OnnxModelLoadException ex) when (spec.Section != GuardOptions.SectionName)
            {
                throw new OnnxModelLoadException($"{spec.Section}: {ex.Message}", ex);
            }
            foreach (var warning in onnx.Warnings)
            {
                LogEngineWarning(logger, onnx.Name, warning);
            }
            LogEngine(logger, onnx.Name, onnx.Model, onnx.Family.ToString());
            return onnx;
        }

        Func<string, int>? countTokens = null;
        if (!string.IsNullOrEmpty(spec.TokenizerPath))
        {
            var tokenizer = TokenizerLoader.Load(spec.TokenizerPath);
            countTokens = text => tokenizer.CountTokens(text);
        }
        // One client for every remote engine. Attempts are timed by each engine; the pooled handler recycles
        // connections so DNS changes are seen.
        http ??= new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
        IGuardEngine engine = spec.Kind == GuardEngineKind.WorkersAi
            ? new WorkersAiGuardEngine(spec.Remote, http, time, countTokens, spec.Name)
            : new OpenAiGuardEngine(spec.Remote, http, time, countTokens, spec.Name);
        LogEngine(logger, engine.Name, engine.Model, engine.Family.ToString());
        return engine;
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Guard engine {Engine} serving {Model} ({Family})")]
    private static partial void LogEngine(ILogger logger, string engine, string model, string family);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Guard engine {Engine}: {Warning}")]
    private static partial void LogEngineWarning(ILogger logger, string engine, string warning);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "No guard engine configured (Guard:Engine is None and Guard:Engines is empty)")]
    private static partial void LogNoEngine(ILogger logger);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Information, Message = "Default guard engine {Engine} (of {Engines})")]
    private static partial void LogDefaultEngine(ILogger logger, string engine, string engines);
}
