using Policies.Config;
using Policies.Model;
using Policies.Validation;

namespace Policies.Store;

/// <summary>Reads every configured file and validates the merged policies, reporting every problem of every file at once.</summary>
public static class PolicyLoader
{
    /// <summary>Loads the files; none gives the built-in monitoring policy.</summary>
    /// <param name="files">The files as configured.</param>
    /// <param name="baseDirectory">The directory relative paths are resolved against; <see langword="null"/>: the current directory.</param>
    /// <param name="engines">The guard engines that exist.</param>
    /// <param name="loadedAt">The time to record.</param>
    public static PolicyLoadResult Load(IReadOnlyList<string> files, string? baseDirectory, PolicyEngines engines, DateTimeOffset loadedAt)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentNullException.ThrowIfNull(engines);
        if (files.Count == 0)
        {
            return new PolicyLoadResult(PolicyDefaults.BuiltIn(engines, loadedAt), []);
        }

        var readErrors = new List<PolicyError>();
        var results = new List<PolicyDocumentResult>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < files.Count; i++)
        {
            var file = files[i];
            if (string.IsNullOrWhiteSpace(file))
            {
                readErrors.Add(new PolicyError(null, $"Policies:Files:{i}", PolicyError.Quote(file), "The file name is empty.", "Remove the entry or name a file."));
                continue;
            }

            var path = Resolve(file, baseDirectory);
            if (!seen.Add(path))
            {
                readErrors.Add(new PolicyError(null, $"Policies:Files:{i}", PolicyError.Quote(file), "The file is listed twice.", "Remove the second entry."));
                continue;
            }

            results.Add(PolicyDocuments.ReadFile(path, file));
        }

        return Build(results, engines, loadedAt, readErrors);
    }

    /// <summary>Validates documents already read, together with the problems found while reading them.</summary>
    /// <param name="documents">The documents as read, in configuration order.</param>
    /// <param name="engines">The guard engines that exist.</param>
    /// <param name="loadedAt">The time to record.</param>
    public static PolicyLoadResult Build(IReadOnlyList<PolicyDocumentResult> documents, PolicyEngines engines, DateTimeOffset loadedAt) =>
        Build(documents, engines, loadedAt, []);

    private static PolicyLoadResult Build(IReadOnlyList<PolicyDocumentResult> documents, PolicyEngines engines, DateTimeOffset loadedAt, List<PolicyError> readErrors)
    {
        ArgumentNullException.ThrowIfNull(documents);
        ArgumentNullException.ThrowIfNull(engines);
        readErrors.AddRange(documents.SelectMany(d => d.Errors));
        PolicySetModel.TryBuild([.. documents.Select(d => d.Document)], engines, loadedAt, out var model, out var buildErrors);
        if (readErrors.Count == 0)
        {
            return new PolicyLoadResult(model, buildErrors);
        }

        // A value that could not be read leaves its field unset; drop what validation then says about the same field,
        // and set-wide conclusions (no catch-all) that may only come from a file that did not read.
        var reported = readErrors.Select(e => (e.File, e.Path)).ToHashSet();
        return new PolicyLoadResult(null, [.. readErrors, .. buildErrors.Where(e => e.File is not null && !reported.Contains((e.File, e.Path)))]);
    }

    /// <summary>The full path of a configured file.</summary>
    public static string Resolve(string file, string? baseDirectory) =>
        Path.GetFullPath(Path.Combine(baseDirectory ?? Directory.GetCurrentDirectory(), file));
}
