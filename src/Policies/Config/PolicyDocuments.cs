using System.Text.Json;
using System.Text.Json.Nodes;
using Policies.Validation;

namespace Policies.Config;

/// <summary>Reads policy documents from YAML or JSON text or files; both syntaxes go through the same reader.</summary>
public static class PolicyDocuments
{
    private static readonly JsonDocumentOptions JsonOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        AllowDuplicateProperties = false,
        MaxDepth = 64,
    };

    /// <summary>The format a file name implies: <c>.yaml</c>/<c>.yml</c> YAML, <c>.json</c> JSON, anything else none.</summary>
    /// <param name="path">The file name or path.</param>
    public static PolicyFileFormat? FormatOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Path.GetExtension(path).ToUpperInvariant() switch
        {
            ".YAML" or ".YML" => PolicyFileFormat.Yaml,
            ".JSON" => PolicyFileFormat.Json,
            _ => null,
        };
    }

    /// <summary>Reads a document from text.</summary>
    /// <param name="text">The document.</param>
    /// <param name="format">Its syntax.</param>
    /// <param name="file">The file name errors are reported under; <see langword="null"/> for none.</param>
    public static PolicyDocumentResult Read(string text, PolicyFileFormat format, string? file = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        var errors = new List<PolicyError>();
        var root = format == PolicyFileFormat.Yaml ? YamlToJson.Convert(text, file, errors) : ParseJson(text, file, errors);
        var document = errors.Count == 0
            ? new PolicyDocumentReader(new NodeReader(file, errors)).Read(root, file)
            : new PolicyDocumentConfig { File = file };
        return new PolicyDocumentResult(document, errors);
    }

    /// <summary>Reads a document from a file, choosing the syntax by extension.</summary>
    /// <param name="path">The file to read.</param>
    /// <param name="file">The name errors are reported under; default <paramref name="path"/>.</param>
    public static PolicyDocumentResult ReadFile(string path, string? file = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        file ??= path;
        if (FormatOf(path) is not { } format)
        {
            return Failed(file, PolicyError.Quote(Path.GetExtension(path)), "The file's extension names no policy format.",
                "Name the file .yaml, .yml or .json.");
        }

        string text;
        try
        {
            // Shared read: an editor or deployment tool may still hold the file open; a half-written file fails
            // validation and the next change event reloads it.
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            text = reader.ReadToEnd();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Failed(file, null, ex is FileNotFoundException or DirectoryNotFoundException
                    ? $"The file does not exist (looked for {Path.GetFullPath(path)})."
                    : $"The file cannot be read: {ex.Message}",
                "Check Policies:Files (relative paths are resolved against Policies:BaseDirectory, by default the directory the gateway was started in) and the file's permissions.");
        }

        return Read(text, format, file);
    }

    private static JsonNode? ParseJson(string text, string? file, List<PolicyError> errors)
    {
        try
        {
            var root = JsonNode.Parse(text, nodeOptions: null, JsonOptions);
            if (root is null)
            {
                errors.Add(new PolicyError(file, "", "null", "The file's root is null.", "Write an object with a \"policies\" array."));
            }

            return root;
        }
        catch (JsonException ex)
        {
            var at = ex.LineNumber is { } line ? $"line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}" : "";
            errors.Add(new PolicyError(file, at, null, $"The JSON cannot be parsed: {ex.Message.Split(" LineNumber:", 2)[0].Split(" Path:", 2)[0]}",
                "Correct the JSON syntax at that position (a missing comma, quote or bracket, or a duplicate property)."));
            return null;
        }
    }

    private static PolicyDocumentResult Failed(string file, string? value, string problem, string fix) =>
        new(new PolicyDocumentConfig { File = file }, [new PolicyError(file, "", value, problem, fix)]);
}
