namespace Policies.Store;

/// <summary>
/// Watches the directories of the policy files and reports a change to any of them, including Kubernetes
/// ConfigMap updates, which swap a <c>..data</c> symlink instead of writing the file.
/// </summary>
internal sealed class PolicyFileWatcher : IDisposable
{
    private readonly List<FileSystemWatcher> _watchers = [];

    public PolicyFileWatcher(IEnumerable<string> paths, Action onChange, Action<string, Exception> onError, Action<string> onWatching)
    {
        foreach (var group in paths.GroupBy(p => Path.GetDirectoryName(p)!, StringComparer.Ordinal))
        {
            var names = group.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
            var directory = group.Key;
            var watcher = new FileSystemWatcher(directory)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
                IncludeSubdirectories = false,
            };
            void OnEvent(object sender, FileSystemEventArgs e)
            {
                if (Relevant(e.Name, names) || (e is RenamedEventArgs r && Relevant(r.OldName, names)))
                {
                    onChange();
                }
            }

            watcher.Changed += OnEvent;
            watcher.Created += OnEvent;
            watcher.Deleted += OnEvent;
            watcher.Renamed += OnEvent;
            watcher.Error += (_, e) =>
            {
                onError(directory, e.GetException());
                onChange();
            };
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
            onWatching(directory);
        }
    }

    public void Dispose()
    {
        foreach (var watcher in _watchers)
        {
            watcher.Dispose();
        }
    }

    private static bool Relevant(string? name, HashSet<string?> names) =>
        name is not null && (names.Contains(name) || name.StartsWith("..", StringComparison.Ordinal));
}
