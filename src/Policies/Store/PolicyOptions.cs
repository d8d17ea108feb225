namespace Policies.Store;

/// <summary>Where the policy files are and how they are watched (configuration section <c>Policies</c>).</summary>
public sealed class PolicyOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Policies";

    /// <summary>
    /// Policy files, <c>.yaml</c>/<c>.yml</c> or <c>.json</c>, merged in order; relative paths are resolved against
    /// <see cref="BaseDirectory"/>. None: the built-in monitoring policy.
    /// </summary>
    public IList<string> Files { get; } = [];

    /// <summary>The directory relative paths are resolved against; <see langword="null"/>: the current directory.</summary>
    public string? BaseDirectory { get; set; }

    /// <summary>Whether changed files are reloaded.</summary>
    public bool Watch { get; set; } = true;

    /// <summary>How long after the last change event a reload runs, so a burst of writes reloads once.</summary>
    public TimeSpan ReloadDelay { get; set; } = TimeSpan.FromMilliseconds(300);
}
