using System.Text.Json;

namespace Guard.Tokenizers;

/// <summary>Opens a JSON file, turning I/O and syntax failures into <see cref="TokenizerLoadException"/>.</summary>
internal static class JsonFile
{
    /// <summary>Parses a JSON file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The document; the caller disposes it.</returns>
    public static JsonDocument Parse(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            return JsonDocument.Parse(stream, new JsonDocumentOptions { MaxDepth = 128 });
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" at line {line + 1}, byte {ex.BytePositionInLine + 1}" : string.Empty;
            throw new TokenizerLoadException(path, null, $"not valid JSON{where} (truncated or corrupt file?): {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerLoadException(path, null, $"cannot be read: {ex.Message}", ex);
        }
    }
}
