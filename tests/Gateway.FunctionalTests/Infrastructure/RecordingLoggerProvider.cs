using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>One log record: its event id, level, category and formatted message.</summary>
public sealed record LogEvent(int Id, LogLevel Level, string Category, string Message);

/// <summary>Keeps the log records of one gateway (unlike <see cref="CapturingLoggerProvider"/>, which every gateway of the
/// test process shares), with their event ids: add it with <c>services.AddSingleton&lt;ILoggerProvider&gt;(recorder)</c>.</summary>
public sealed class RecordingLoggerProvider : ILoggerProvider
{
    /// <summary>Every record, in order.</summary>
    public ConcurrentQueue<LogEvent> Events { get; } = new();

    /// <summary>How many records have event id <paramref name="id"/>.</summary>
    public int Count(int id) => Events.Count(e => e.Id == id);

    /// <summary>The event ids among <paramref name="ids"/> in the order they were logged.</summary>
    public IReadOnlyList<int> Sequence(params int[] ids) => [.. Events.Where(e => ids.Contains(e.Id)).Select(e => e.Id)];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(RecordingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Events.Enqueue(new LogEvent(eventId.Id, logLevel, category, formatter(state, exception)));
    }
}
