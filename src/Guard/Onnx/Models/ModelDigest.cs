using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Guard.Onnx.Models;

/// <summary>
/// The model digest the builder records in <c>manifest.json</c> (<see cref="ModelManifest.WeightsSha256"/>): one
/// SHA-256 over the files that define the model's computation, the graph file and every external-data file it
/// references.
/// </summary>
/// <remarks>
/// <para>The rule: each covered file gets the line <c>&lt;sha256&gt; &lt;length&gt; &lt;name&gt;\n</c>, where
/// <c>sha256</c> is the SHA-256 of the file's bytes in lowercase hex, <c>length</c> its length in bytes in decimal and
/// <c>name</c> its path relative to the model directory with <c>/</c> separators. The lines are sorted by name
/// (ordinal; for the builder's file names, <c>model.onnx</c> then <c>model.onnx.data</c>) and concatenated; the model
/// digest is the SHA-256 of that text in UTF-8, in lowercase hex. By hand:
/// <c>for f in model.onnx model.onnx.data; do printf '%s %s %s\n' "$(sha256sum &lt; $f | cut -c1-64)" "$(stat -c%s $f)" "$f"; done | sha256sum</c>.</para>
/// <para>Every file is read in a stream; nothing is held whole in memory.</para>
/// </remarks>
public static class ModelDigest
{
    private const int BufferSize = 1 << 20;

    /// <summary>Combines per-file digests into the model digest by the rule above.</summary>
    /// <param name="files">The covered files, in any order.</param>
    /// <returns>The model digest, 64 lowercase hex digits.</returns>
    /// <exception cref="ArgumentException">No file, a name that is empty, repeated or holds a line break, a negative
    /// length, or a file digest that is not 64 hex digits.</exception>
    public static string Combine(IEnumerable<ModelFileDigest> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        var sorted = files.ToList();
        var errors = Check(sorted);
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid model file digests: " + string.Join("; ", errors), nameof(files));
        }

        sorted.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        var text = new StringBuilder();
        foreach (var file in sorted)
        {
            text.Append(file.Sha256.ToLowerInvariant()).Append(' ')
                .Append(file.Length.ToString(CultureInfo.InvariantCulture)).Append(' ')
                .Append(file.Name).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>Hashes one file of a model directory, reading it in a stream.</summary>
    /// <param name="directory">The model directory.</param>
    /// <param name="name">The file's path relative to <paramref name="directory"/> (<c>/</c> separators).</param>
    /// <returns>The file's name, length and SHA-256.</returns>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static ModelFileDigest HashFile(string directory, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentException.ThrowIfNullOrEmpty(name);
        var path = Path.Combine(directory, name.Replace('/', Path.DirectorySeparatorChar));
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan);
        var hash = SHA256.HashData(stream);
        return new ModelFileDigest { Name = name, Length = stream.Position, Sha256 = Convert.ToHexStringLower(hash) };
    }

    /// <summary>Hashes files of a model directory and combines them into the model digest.</summary>
    /// <param name="directory">The model directory.</param>
    /// <param name="names">The covered files' paths relative to <paramref name="directory"/>.</param>
    /// <returns>The per-file digests (sorted by name) and the model digest.</returns>
    /// <exception cref="IOException">A file cannot be read.</exception>
    public static (IReadOnlyList<ModelFileDigest> Files, string Sha256) Compute(string directory, IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var files = names.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(n => HashFile(directory, n)).ToList();
        return (files, Combine(files));
    }

    /// <summary>Whether <paramref name="value"/> is a SHA-256 in hex (64 hex digits, either case).</summary>
    /// <param name="value">The text.</param>
    public static bool IsSha256Hex(string? value) =>
        value is { Length: 64 } && value.All(char.IsAsciiHexDigit);

    /// <summary>Lists what is wrong with a set of file digests; empty when they can be combined.</summary>
    internal static List<string> Check(IReadOnlyList<ModelFileDigest> files)
    {
        var errors = new List<string>();
        if (files.Count == 0)
        {
            errors.Add("no file");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < files.Count; i++)
        {
            var file = files[i];
            if (file is null)
            {
                errors.Add($"[{i}] is null");
                continue;
            }

            if (string.IsNullOrEmpty(file.Name) || file.Name.Contains('\n', StringComparison.Ordinal) || file.Name.Contains('\r', StringComparison.Ordinal))
            {
                errors.Add($"[{i}].name \"{file.Name}\" must be a non-empty file name without line breaks");
            }
            else if (!names.Add(file.Name))
            {
                errors.Add($"[{i}].name \"{file.Name}\" is listed twice");
            }

            if (file.Length < 0)
            {
                errors.Add($"[{i}].length {file.Length} is negative");
            }

            if (!IsSha256Hex(file.Sha256))
            {
                errors.Add($"[{i}].sha256 \"{file.Sha256}\" is not 64 hex digits");
            }
        }

        return errors;
    }
}
