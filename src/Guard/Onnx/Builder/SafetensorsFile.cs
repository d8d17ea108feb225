using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;

namespace Guard.Onnx.Builder;

/// <summary>
/// The header of one <c>.safetensors</c> file: an 8-byte little-endian header length, a JSON object of
/// <c>name: {dtype, shape, data_offsets: [begin, end]}</c> (offsets relative to the end of the header), then the data.
/// </summary>
internal sealed class SafetensorsFile
{
    private const long MaxHeaderBytes = 100L << 20;

    private SafetensorsFile(string path, long dataStart, IReadOnlyDictionary<string, SafetensorsEntry> entries)
    {
        Path = path;
        DataStart = dataStart;
        Entries = entries;
    }

    public string Path { get; }

    /// <summary>The file offset of the data buffer.</summary>
    public long DataStart { get; }

    public IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; }

    /// <summary>Reads and checks the header.</summary>
    /// <exception cref="LlamaCheckpointException">The file is missing or its header is corrupt.</exception>
    public static SafetensorsFile Read(string path)
    {
        if (!File.Exists(path))
        {
            throw new LlamaCheckpointException(path, "safetensors file not found", null);
        }

        using var handle = File.OpenHandle(path);
        var fileLength = RandomAccess.GetLength(handle);
        Span<byte> prefix = stackalloc byte[8];
        if (fileLength < 8 || RandomAccess.Read(handle, prefix, 0) != 8)
        {
            throw Corrupt(path, $"the file has {fileLength} bytes, fewer than the 8-byte header length");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes || (long)headerLength > fileLength - 8)
        {
            throw Corrupt(path, $"the header length {headerLength} exceeds the file ({fileLength} bytes) or the 100 MiB limit");
        }

        var header = new byte[headerLength];
        if (RandomAccess.Read(handle, header, 8) != header.Length)
        {
            throw Corrupt(path, "the header could not be read in full");
        }

        var dataLength = fileLength - 8 - (long)headerLength;
        var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(header);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Corrupt(path, "the header is not a JSON object");
            }

            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    continue;
                }

                entries[property.Name] = ParseEntry(path, property, dataLength);
            }
        }
        catch (JsonException ex)
        {
            throw new LlamaCheckpointException(path, $"corrupt safetensors header: not valid JSON ({ex.Message})", ex);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new LlamaCheckpointException(path, $"corrupt safetensors header: unexpected JSON value ({ex.Message})", ex);
        }

        return new SafetensorsFile(path, 8 + (long)headerLength, entries);
    }

    private static SafetensorsEntry ParseEntry(string path, JsonProperty property, long dataLength)
    {
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object
            || !value.TryGetProperty("dtype", out var dtypeJson)
            || !value.TryGetProperty("shape", out var shapeJson)
            || !value.TryGetProperty("data_offsets", out var offsetsJson)
            || offsetsJson.GetArrayLength() != 2)
        {
            throw Corrupt(path, $"tensor '{property.Name}' lacks dtype, shape or a [begin, end] data_offsets pair");
        }

        var dtype = dtypeJson.GetString() ?? string.Empty;
        var shape = shapeJson.EnumerateArray().Select(d => d.GetInt64()).ToArray();
        var begin = offsetsJson[0].GetInt64();
        var end = offsetsJson[1].GetInt64();
        if (shape.Any(d => d < 0) || begin < 0 || end < begin || end > dataLength)
        {
            throw Corrupt(path, string.Create(CultureInfo.InvariantCulture, $"tensor '{property.Name}' has data_offsets [{begin}, {end}] or shape {LlamaTensor.FormatShape(shape)} outside the {dataLength}-byte data buffer"));
        }

        var entry = new SafetensorsEntry(dtype, shape, begin, end);
        if (entry.ElementSize > 0 && end - begin != entry.ElementCount * entry.ElementSize)
        {
            throw Corrupt(path, string.Create(CultureInfo.InvariantCulture, $"tensor '{property.Name}' ({dtype} {LlamaTensor.FormatShape(shape)}) needs {entry.ElementCount * entry.ElementSize} bytes but data_offsets span {end - begin}"));
        }

        return entry;
    }

    private static LlamaCheckpointException Corrupt(string path, string problem) => new(path, "corrupt safetensors header: " + problem, null);
}
