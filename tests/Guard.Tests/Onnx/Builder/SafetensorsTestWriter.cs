using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Guard.Onnx.Builder;

namespace Guard.Tests.Onnx.Builder;

/// <summary>A small safetensors writer for the tests (F32, F16, BF16 with round-to-nearest-even), independent of the reader.</summary>
internal static class SafetensorsTestWriter
{
    public static void Write(string path, IEnumerable<(string Name, int[] Shape, float[] Values)> tensors, string dtype)
    {
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        using var data = new MemoryStream();
        var scratch = new byte[4];
        foreach (var (name, shape, values) in tensors)
        {
            var begin = data.Length;
            foreach (var v in values)
            {
                switch (dtype)
                {
                    case "F32":
                        BinaryPrimitives.WriteSingleLittleEndian(scratch, v);
                        data.Write(scratch, 0, 4);
                        break;
                    case "F16":
                        BinaryPrimitives.WriteHalfLittleEndian(scratch, (Half)v);
                        data.Write(scratch, 0, 2);
                        break;
                    default:
                        BinaryPrimitives.WriteUInt16LittleEndian(scratch, ToBFloat16(v));
                        data.Write(scratch, 0, 2);
                        break;
                }
            }

            header[name] = new Dictionary<string, object> { ["dtype"] = dtype, ["shape"] = shape, ["data_offsets"] = new[] { begin, data.Length } };
        }

        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        using var file = File.Create(path);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        file.Write(length);
        file.Write(json);
        data.Position = 0;
        data.CopyTo(file);
    }

    /// <summary>Writes <paramref name="weights"/> as a checkpoint directory: config.json and model.safetensors.</summary>
    public static void WriteCheckpoint(string directory, ILlamaWeights weights, string dtype, Func<string, bool>? include = null)
    {
        Directory.CreateDirectory(directory);
        LlamaConfigJson.Write(weights.Config, Path.Combine(directory, "config.json"));
        Write(Path.Combine(directory, "model.safetensors"), Tensors(weights, include), dtype);
    }

    public static IEnumerable<(string, int[], float[])> Tensors(ILlamaWeights weights, Func<string, bool>? include = null) =>
        LlamaTensorNames.All(weights.Config)
            .Where(t => include?.Invoke(t.Name) ?? true)
            .Select(t => (t.Name, t.Shape.ToArray(), weights.Get(t.Name)));

    public static ushort ToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        var rounding = 0x7FFFu + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float FromBFloat16(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);
}
