using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>Keeps every formatted log line (with its structured values) so tests can check nothing sensitive is logged.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    public static CapturingLoggerProvider Instance { get; } = new();

    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join(";", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            owner.Lines.Enqueue($"{logLevel} {category} {formatter(state, exception)} {values} {exception}");
        }
    }
}
