using Microsoft.Extensions.Logging;

namespace Policies.Store;

/// <summary>The policy store's log events (5001-5099).</summary>
internal static partial class PolicyLog
{
    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Loaded {Count} policies from {Files}")]
    public static partial void Loaded(ILogger logger, int count, string files);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "No policy files configured (Policies:Files): the built-in policy {Policy} flags every category and never blocks")]
    public static partial void BuiltInDefault(ILogger logger, string policy);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "Policy reload rejected; keeping the {Count} policies loaded at {LoadedAt:O}. {Errors}")]
    public static partial void ReloadRejected(ILogger logger, int count, DateTimeOffset loadedAt, string errors);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Reloaded {Count} policies from {Files}")]
    public static partial void Reloaded(ILogger logger, int count, string files);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Warning, Message = "Policy file watcher error in {Directory}; reloading to catch up")]
    public static partial void WatcherError(ILogger logger, string directory, Exception exception);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Error, Message = "Policy reload failed unexpectedly; keeping the policies in force")]
    public static partial void ReloadFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Information, Message = "Watching {Directory} for policy file changes")]
    public static partial void Watching(ILogger logger, string directory);
}
