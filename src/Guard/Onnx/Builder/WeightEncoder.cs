using System.Runtime.InteropServices;

namespace Guard.Onnx.Builder;

/// <summary>Lays out and encodes weights: Hugging Face <c>[out, in]</c> matrices transposed for MatMul, float32 or float16 little-endian bytes.</summary>
internal static class WeightEncoder
{
    private const int Block = 64;
    private const int Chunk = 1 << 20;

    /// <summary>Returns the <c>[cols, rows]</c> transpose of a row-major <c>[rows, cols]</c> matrix, each value times <paramref name="scale"/>.</summary>
    public static float[] Transpose(float[] source, int rows, int cols, float scale = 1)
    {
        var result = new float[source.Length];
        var rowBlocks = (rows + Block - 1) / Block;
        Parallel.For(0, rowBlocks, rb =>
        {
            var r0 = rb * Block;
            var r1 = Math.Min(rows, r0 + Block);
            for (var c0 = 0; c0 < cols; c0 += Block)
            {
                var c1 = Math.Min(cols, c0 + Block);
                for (var r = r0; r < r1; r++)
                {
                    var src = (long)r * cols;
                    for (var c = c0; c < c1; c++)
                    {
                        result[((long)c * rows) + r] = source[src + c] * scale;
                    }
                }
            }
        });
        return result;
    }

    public static int ElementSize(OnnxDataType type) => type switch
    {
        OnnxDataType.Float => 4,
        OnnxDataType.Float16 => 2,
        OnnxDataType.Int64 => 8,
        OnnxDataType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Encodes all values into one array (inline tensors, which are below the 2 GiB protobuf limit).</summary>
    public static byte[] ToBytes(float[] values, OnnxDataType type)
    {
        var bytes = new byte[checked(values.LongLength * ElementSize(type))];
        if (type == OnnxDataType.Float)
        {
            MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(bytes);
        }
        else
        {
            var halves = MemoryMarshal.Cast<byte, Half>(bytes.AsSpan());
            for (var i = 0; i < values.Length; i++)
            {
                halves[i] = (Half)values[i];
            }
        }

        return bytes;
    }

    /// <summary>Streams the encoded values to <paramref name="stream"/> in chunks (tensors may exceed 2 GiB).</summary>
    public static void Write(Stream stream, float[] values, OnnxDataType type)
    {
        if (type == OnnxDataType.Float)
        {
            for (long start = 0; start < values.LongLength; start += Chunk)
            {
                var count = (int)Math.Min(Chunk, values.LongLength - start);
                stream.Write(MemoryMarshal.AsBytes(values.AsSpan((int)start, count)));
            }

            return;
        }

        var buffer = new Half[Chunk];
        for (long start = 0; start < values.LongLength; start += Chunk)
        {
            var count = (int)Math.Min(Chunk, values.LongLength - start);
            var src = values.AsSpan((int)start, count);
            for (var i = 0; i < count; i++)
            {
                buffer[i] = (Half)src[i];
            }

            stream.Write(MemoryMarshal.AsBytes(buffer.AsSpan(0, count)));
        }
    }
}
