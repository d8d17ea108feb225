using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Guard.Onnx.Models;
using Guard.Tokenizers;

namespace Guard.Onnx.Engine;

/// <summary>The parts of <see cref="OnnxGuardEngine.CacheIdentity"/> that come from the model directory's files.</summary>
internal static class ModelIdentity
{
    /// <summary>The prefix of a model digest recorded in the manifest.</summary>
    public const string DigestPrefix = "sha256:";

    /// <summary>The prefix of the stand-in for a model digest: a digest of the files' names, sizes and modification times.</summary>
    public const string FileListingPrefix = "files-sha256:";

    private const string Rebuild = "rebuild the model directory with `gateway build-model` (the same options) to record the digest";

    /// <summary>
    /// The model part: <c>sha256:&lt;manifest's weights_sha256&gt;</c>, or, when the manifest has none or the files it
    /// lists have other lengths now, <c>files-sha256:&lt;hex&gt;</c> over the directory's file listing, with a warning.
    /// Nothing is read but the directory listing: the model files may be many gigabytes.
    /// </summary>
    public static string Weights(ModelDirectory model, List<string> warnings)
    {
        var manifest = model.Manifest;
        if (manifest.WeightsSha256 is null)
        {
            warnings.Add($"{model.ManifestPath}: the manifest predates model digests (it has no weights_sha256), so verdict cache keys use the model files' names, sizes and modification times instead; {Rebuild}.");
            return FileListingPrefix + FileListingDigest(model.Path);
        }

        if (manifest.WeightsFiles is { } files && Stale(model, files) is { } problem)
        {
            warnings.Add($"{model.ManifestPath}: {problem}, so the manifest's weights_sha256 does not describe these files and verdict cache keys use the model files' names, sizes and modification times instead; {Rebuild}.");
            return FileListingPrefix + FileListingDigest(model.Path);
        }

        return DigestPrefix + manifest.WeightsSha256.ToLowerInvariant();
    }

    /// <summary>
    /// The tokenizer part: <c>sha256:&lt;hex&gt;</c> by the model digest's rule (<see cref="ModelDigest"/>) over the
    /// tokenizer files the engine loaded (<c>tokenizer.json</c> and <c>tokenizer_config.json</c> when present, else
    /// <c>tokenizer.model</c>); these are small.
    /// </summary>
    public static string Tokenizer(ModelDirectory model)
    {
        List<string> names = Path.GetFileName(model.TokenizerPath) == TokenizerLoader.HuggingFaceFileName
            ? [TokenizerLoader.HuggingFaceFileName, TokenizerConfigFile.FileName]
            : [TokenizerLoader.SentencePieceFileName];
        try
        {
            return DigestPrefix + ModelDigest.Compute(model.Path, names.Where(n => File.Exists(Path.Combine(model.Path, n)))).Sha256;
        }
        catch (IOException ex)
        {
            throw new OnnxModelLoadException(model.TokenizerPath, $"the tokenizer files could not be read for the engine's cache identity: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// SHA-256, in lowercase hex, of the lines <c>&lt;length&gt; &lt;last write, UTC ticks&gt; &lt;name&gt;\n</c> of every
    /// file under the directory (names relative, <c>/</c> separators, sorted ordinally; a symbolic link by its target).
    /// </summary>
    public static string FileListingDigest(string directory)
    {
        var root = new DirectoryInfo(directory);
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0, MaxRecursionDepth = 8 };
        var lines = new List<(string Name, string Line)>();
        foreach (var file in root.EnumerateFiles("*", options))
        {
            var info = file.LinkTarget is not null && file.ResolveLinkTarget(returnFinalTarget: true) is FileInfo { Exists: true } target ? target : file;
            var name = Path.GetRelativePath(root.FullName, file.FullName).Replace(Path.DirectorySeparatorChar, '/');
            lines.Add((name, string.Create(CultureInfo.InvariantCulture, $"{info.Length} {info.LastWriteTimeUtc.Ticks} {name}\n")));
        }

        lines.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Concat(lines.Select(l => l.Line)))));
    }

    /// <summary>Why the files listed in the manifest are not the files on disk, judged by name and length; null when they may be.</summary>
    private static string? Stale(ModelDirectory model, IReadOnlyList<ModelFileDigest> files)
    {
        if (!files.Any(f => f.Name == model.Manifest.Graph))
        {
            return $"weights_files does not list the graph file \"{model.Manifest.Graph}\"";
        }

        foreach (var file in files)
        {
            var info = new FileInfo(Path.Combine(model.Path, file.Name.Replace('/', Path.DirectorySeparatorChar)));
            if (!info.Exists)
            {
                return $"{file.Name}, listed in weights_files, is missing";
            }

            if (info.Length != file.Length)
            {
                return $"{file.Name} has {info.Length} bytes but weights_files records {file.Length}: it changed after the manifest was written";
            }
        }

        return null;
    }
}
