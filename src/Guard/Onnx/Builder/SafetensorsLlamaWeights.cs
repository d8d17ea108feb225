using System.Runtime.InteropServices;
using System.Text.Json;
using Guard.Onnx.Models;

namespace Guard.Onnx.Builder;

/// <summary>
/// The weights of a Hugging Face Llama checkpoint directory: <c>config.json</c> and <c>model.safetensors</c>, sharded
/// files listed by <c>model.safetensors.index.json</c>, or every <c>*.safetensors</c> file; F32, F16 and BF16 tensors
/// are read as float32.
/// </summary>
/// <remarks>The constructor reads only the headers and checks every tensor the config needs (present, supported dtype,
/// shape), listing every problem with its file; <see cref="Get"/> then reads one tensor at a time.</remarks>
public sealed class SafetensorsLlamaWeights : ILlamaWeights
{
    /// <summary>The index file of a sharded checkpoint.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, (SafetensorsFile File, SafetensorsEntry Entry)> _tensors = new(StringComparer.Ordinal);

    /// <summary>Opens a checkpoint directory and checks it against its <c>config.json</c>.</summary>
    /// <param name="checkpointDirectory">The directory.</param>
    /// <exception cref="LlamaCheckpointException">A file is missing or corrupt, or a tensor is missing or has the wrong shape or dtype.</exception>
    public SafetensorsLlamaWeights(string checkpointDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointDirectory);
        CheckpointDirectory = Path.GetFullPath(checkpointDirectory);
        if (!Directory.Exists(CheckpointDirectory))
        {
            throw new LlamaCheckpointException(CheckpointDirectory, "checkpoint directory not found", null);
        }

        var configPath = Path.Combine(CheckpointDirectory, LlamaConfigJson.FileName);
        Config = LlamaConfigJson.Read(configPath);
        var errors = new List<(string File, string Problem)>();
        var expected = LlamaTensorNames.All(Config);
        var indexPath = Path.Combine(CheckpointDirectory, IndexFileName);
        if (File.Exists(indexPath))
        {
            LoadSharded(indexPath, expected, errors);
        }
        else
        {
            LoadUnsharded(expected, errors);
        }

        foreach (var tensor in expected)
        {
            if (_tensors.TryGetValue(tensor.Name, out var found))
            {
                Check(tensor, found.File.Path, found.Entry, configPath, errors);
            }
        }

        if (errors.Count > 0)
        {
            var files = errors.Select(e => e.File).Distinct(StringComparer.Ordinal).ToList();
            throw files.Count == 1
                ? new LlamaCheckpointException(files[0], string.Join("; ", errors.Select(e => e.Problem)), null)
                : new LlamaCheckpointException(CheckpointDirectory, string.Join("; ", errors.Select(e => $"{e.File}: {e.Problem}")), null);
        }
    }

    /// <summary>The checkpoint directory (full path).</summary>
    public string CheckpointDirectory { get; }

    /// <inheritdoc/>
    public LlamaConfig Config { get; }

    /// <inheritdoc/>
    public string Source => "safetensors:" + Path.GetFileName(CheckpointDirectory.TrimEnd(Path.DirectorySeparatorChar));

    /// <inheritdoc/>
    public float[] Get(string name)
    {
        if (name == LlamaTensorNames.LmHead && Config.TieWordEmbeddings && !_tensors.ContainsKey(name))
        {
            name = LlamaTensorNames.Embedding;
        }

        if (!_tensors.TryGetValue(name, out var found))
        {
            throw new ArgumentException($"'{name}' is not a weight tensor of the checkpoint {CheckpointDirectory}.", nameof(name));
        }

        return Read(found.File, found.Entry, name);
    }

    private void LoadSharded(string indexPath, IReadOnlyList<LlamaTensor> expected, List<(string, string)> errors)
    {
        Dictionary<string, string> map;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(indexPath));
            map = doc.RootElement.GetProperty("weight_map").EnumerateObject()
                .ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty, StringComparer.Ordinal);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new LlamaCheckpointException(indexPath, $"not a safetensors index with a weight_map object: {ex.Message}", ex);
        }

        var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        foreach (var tensor in expected)
        {
            if (!map.TryGetValue(tensor.Name, out var shardName))
            {
                errors.Add((indexPath, $"tensor '{tensor.Name}' is missing from the weight_map"));
                continue;
            }

            if (!shards.TryGetValue(shardName, out var shard))
            {
                var shardPath = Path.Combine(CheckpointDirectory, shardName);
                if (!File.Exists(shardPath))
                {
                    errors.Add((shardPath, $"shard not found (named by {indexPath} for '{tensor.Name}')"));
                    continue;
                }

                shard = SafetensorsFile.Read(shardPath);
                shards.Add(shardName, shard);
            }

            if (shard.Entries.TryGetValue(tensor.Name, out var entry))
            {
                _tensors[tensor.Name] = (shard, entry);
            }
            else
            {
                errors.Add((shard.Path, $"tensor '{tensor.Name}' is missing (the index {IndexFileName} places it in this shard)"));
            }
        }
    }

    private void LoadUnsharded(IReadOnlyList<LlamaTensor> expected, List<(string, string)> errors)
    {
        var paths = Directory.GetFiles(CheckpointDirectory, "*.safetensors").Order(StringComparer.Ordinal).ToList();
        if (paths.Count == 0)
        {
            throw new LlamaCheckpointException(CheckpointDirectory, "no *.safetensors file (model.safetensors, or shards with model.safetensors.index.json) in the checkpoint directory", null);
        }

        foreach (var path in paths)
        {
            var file = SafetensorsFile.Read(path);
            foreach (var (name, entry) in file.Entries)
            {
                if (_tensors.TryGetValue(name, out var other))
                {
                    errors.Add((path, $"tensor '{name}' is also in {other.File.Path}"));
                }

                _tensors[name] = (file, entry);
            }
        }

        var where = paths.Count == 1 ? paths[0] : CheckpointDirectory;
        foreach (var tensor in expected.Where(t => !_tensors.ContainsKey(t.Name)))
        {
            errors.Add((where, $"tensor '{tensor.Name}' is missing"));
        }
    }

    private static void Check(LlamaTensor tensor, string file, SafetensorsEntry entry, string configPath, List<(string, string)> errors)
    {
        if (!entry.Shape.SequenceEqual(tensor.Shape.Select(d => (long)d)))
        {
            errors.Add((file, $"tensor '{tensor.Name}' has shape {LlamaTensor.FormatShape(entry.Shape)}, but {configPath} gives {tensor.ShapeText}"));
        }

        if (entry.ElementSize == 0)
        {
            errors.Add((file, $"tensor '{tensor.Name}' has dtype {entry.DType}; supported: {string.Join(", ", SafetensorsEntry.SupportedDTypes)}"));
        }
    }

    private static float[] Read(SafetensorsFile file, SafetensorsEntry entry, string name)
    {
        const int ChunkElements = 1 << 20;
        var values = new float[entry.ElementCount];
        using var handle = File.OpenHandle(file.Path);
        var buffer = entry.DType == "F32" ? null : new ushort[Math.Min(ChunkElements, values.LongLength)];
        for (long start = 0; start < values.LongLength; start += ChunkElements)
        {
            var count = (int)Math.Min(ChunkElements, values.LongLength - start);
            var offset = file.DataStart + entry.Begin + (start * entry.ElementSize);
            var target = buffer is null
                ? MemoryMarshal.AsBytes(values.AsSpan((int)start, count))
                : MemoryMarshal.AsBytes(buffer.AsSpan(0, count));
            ReadExactly(handle, target, offset, file.Path, name);
            if (buffer is null)
            {
                continue;
            }

            var output = values.AsSpan((int)start, count);
            var input = buffer.AsSpan(0, count);
            if (entry.DType == "BF16")
            {
                for (var i = 0; i < count; i++)
                {
                    output[i] = BitConverter.Int32BitsToSingle(input[i] << 16);
                }
            }
            else
            {
                for (var i = 0; i < count; i++)
                {
                    output[i] = (float)BitConverter.UInt16BitsToHalf(input[i]);
                }
            }
        }

        return values;
    }

    private static void ReadExactly(Microsoft.Win32.SafeHandles.SafeFileHandle handle, Span<byte> target, long offset, string path, string name)
    {
        while (target.Length > 0)
        {
            var read = RandomAccess.Read(handle, target, offset);
            if (read == 0)
            {
                throw new LlamaCheckpointException(path, $"the file ends inside tensor '{name}'", null);
            }

            target = target[read..];
            offset += read;
        }
    }
}
