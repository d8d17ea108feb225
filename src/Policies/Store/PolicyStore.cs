using Microsoft.Extensions.Logging;
using Policies.Model;
using Policies.Validation;

namespace Policies.Store;

/// <summary>
/// Holds the policies in force: loads the configured files at start (invalid files stop start-up), reloads them when
/// they change, and swaps the snapshot whole. An invalid reload keeps the last good snapshot and is reported in
/// <see cref="Status"/> and the log.
/// </summary>
/// <remarks>Reads (<see cref="Current"/>, <see cref="Select"/>) take no lock: one volatile reference to an immutable snapshot.</remarks>
public sealed class PolicyStore : IDisposable
{
    private readonly string[] _files;
    private readonly string? _baseDirectory;
    private readonly PolicyEngines _engines;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly TimeSpan _reloadDelay;
    private readonly SemaphoreSlim _reloadLock = new(1, 1);
    private readonly Lock _timerLock = new();
    private volatile PolicySetModel _current;
    private volatile PolicyStoreStatus _status;
    private PolicyFileWatcher? _watcher;
    private readonly ITimer? _debounce;
    private bool _disposed;

    /// <summary>Loads the configured files.</summary>
    /// <param name="options">The files and watch settings.</param>
    /// <param name="engines">The guard engines that exist.</param>
    /// <param name="timeProvider">The clock, for load times and the reload delay.</param>
    /// <param name="logger">The log.</param>
    /// <exception cref="PolicyValidationException">A file is missing or invalid; every problem is listed.</exception>
    public PolicyStore(PolicyOptions options, PolicyEngines engines, TimeProvider timeProvider, ILogger<PolicyStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(engines);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        _files = [.. options.Files];
        _baseDirectory = options.BaseDirectory;
        _engines = engines;
        _time = timeProvider;
        _logger = logger;
        _reloadDelay = options.ReloadDelay;
        var now = _time.GetUtcNow();
        var result = PolicyLoader.Load(_files, _baseDirectory, _engines, now);
        _current = result.Model ?? throw new PolicyValidationException(result.Errors);
        _status = new PolicyStoreStatus
        {
            Files = _files,
            PolicyCount = _current.Policies.Count,
            IsBuiltInDefault = _current.IsBuiltInDefault,
            LastGoodLoadedAt = now,
            LastAttemptAt = now,
        };
        if (_current.IsBuiltInDefault)
        {
            PolicyLog.BuiltInDefault(_logger, PolicyDefaults.BuiltInName);
        }
        else
        {
            PolicyLog.Loaded(_logger, _current.Policies.Count, string.Join(", ", _files));
        }

        _debounce = _files.Length == 0 ? null : _time.CreateTimer(_ => _ = ReloadOnChangeAsync(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (options.Watch)
        {
            StartWatching();
        }
    }

    /// <summary>The policies in force.</summary>
    public PolicySetModel Current => _current;

    /// <summary>What is in force and whether the last reload failed.</summary>
    public PolicyStoreStatus Status => _status;

    /// <summary>The policy for a request, from the snapshot in force (see <see cref="PolicySetModel.Select"/>).</summary>
    public PolicyModel Select(string route, string model, string? tenant) => _current.Select(route, model, tenant);

    /// <summary>Reads and validates the files now; applies them when valid, otherwise keeps the last good policies.</summary>
    /// <param name="cancellationToken">Cancels waiting for a reload already running.</param>
    public async Task<PolicyReloadResult> ReloadAsync(CancellationToken cancellationToken = default)
    {
        await _reloadLock.WaitAsync(cancellationToken);
        try
        {
            var now = _time.GetUtcNow();
            var result = PolicyLoader.Load(_files, _baseDirectory, _engines, now);
            var status = _status;
            if (result.Model is { } model)
            {
                _current = model;
                _status = status with
                {
                    PolicyCount = model.Policies.Count,
                    LastGoodLoadedAt = now,
                    LastAttemptAt = now,
                    Reloads = status.Reloads + 1,
                    LastError = null,
                    Errors = [],
                };
                PolicyLog.Reloaded(_logger, model.Policies.Count, string.Join(", ", _files));
                return new PolicyReloadResult(true, model, []);
            }

            var message = PolicyValidationException.Format(result.Errors);
            _status = status with
            {
                LastAttemptAt = now,
                FailedReloads = status.FailedReloads + 1,
                LastError = message,
                Errors = result.Errors,
            };
            PolicyLog.ReloadRejected(_logger, _current.Policies.Count, _current.LoadedAt, message);
            return new PolicyReloadResult(false, _current, result.Errors);
        }
        finally
        {
            _reloadLock.Release();
        }
    }

    /// <summary>Starts reloading on file changes (once; a no-op without files). Called by the constructor when watching is on.</summary>
    public void StartWatching()
    {
        lock (_timerLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_watcher is not null || _files.Length == 0)
            {
                return;
            }

            _watcher = new PolicyFileWatcher(
                _files.Select(f => PolicyLoader.Resolve(f, _baseDirectory)),
                NotifyChanged,
                (directory, ex) => PolicyLog.WatcherError(_logger, directory, ex),
                directory => PolicyLog.Watching(_logger, directory));
        }
    }

    /// <summary>Stops watching.</summary>
    public void Dispose()
    {
        lock (_timerLock)
        {
            _disposed = true;
            _watcher?.Dispose();
            _debounce?.Dispose();
        }
    }

    /// <summary>Restarts the reload delay, so a burst of change events reloads once; the watcher calls it on each event.</summary>
    internal void NotifyChanged()
    {
        lock (_timerLock)
        {
            if (!_disposed)
            {
                _debounce?.Change(_reloadDelay, Timeout.InfiniteTimeSpan);
            }
        }
    }

    private async Task ReloadOnChangeAsync()
    {
        try
        {
            await ReloadAsync();
        }
        catch (Exception ex)
        {
            // A timer callback must not throw; the policies in force stay, and the next change retries.
            PolicyLog.ReloadFailed(_logger, ex);
        }
    }
}
