using System.Buffers.Binary;

namespace Guard.Tokenizers;

/// <summary>
/// A minimal protobuf wire-format reader (varint, 32-bit, 64-bit and length-delimited fields), enough for
/// SentencePiece's ModelProto without a dependency on Google.Protobuf.
/// </summary>
internal ref struct ProtobufReader
{
    /// <summary>Wire type of varint fields.</summary>
    public const int Varint = 0;

    /// <summary>Wire type of 64-bit fields.</summary>
    public const int Fixed64 = 1;

    /// <summary>Wire type of length-delimited fields (strings, bytes, messages).</summary>
    public const int LengthDelimited = 2;

    /// <summary>Wire type of 32-bit fields (float).</summary>
    public const int Fixed32 = 5;

    private readonly ReadOnlySpan<byte> _data;
    private readonly int _baseOffset;
    private int _position;

    /// <summary>Initializes a new instance of the <see cref="ProtobufReader"/> struct.</summary>
    /// <param name="data">The encoded message.</param>
    /// <param name="baseOffset">The offset of <paramref name="data"/> in the file, for error messages.</param>
    public ProtobufReader(ReadOnlySpan<byte> data, int baseOffset = 0)
    {
        _data = data;
        _baseOffset = baseOffset;
        _position = 0;
    }

    /// <summary>Gets the offset in the file of the next byte to read.</summary>
    public readonly int Offset => _baseOffset + _position;

    /// <summary>Reads the next field key.</summary>
    /// <param name="field">The field number.</param>
    /// <param name="wireType">The wire type.</param>
    /// <returns><see langword="false"/> at the end of the message.</returns>
    public bool TryReadTag(out int field, out int wireType)
    {
        if (_position >= _data.Length)
        {
            field = 0;
            wireType = 0;
            return false;
        }

        var key = ReadVarint();
        field = (int)(key >> 3);
        wireType = (int)(key & 7);
        if (field == 0)
        {
            throw new InvalidDataException($"field number 0 at byte {Offset}");
        }

        return true;
    }

    /// <summary>Reads a varint.</summary>
    /// <returns>The value.</returns>
    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _data.Length)
            {
                throw new InvalidDataException($"truncated varint at byte {Offset}");
            }

            var b = _data[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }

        throw new InvalidDataException($"varint longer than 10 bytes at byte {Offset}");
    }

    /// <summary>Reads a 32-bit float.</summary>
    /// <returns>The value.</returns>
    public float ReadFloat() => BinaryPrimitives.ReadSingleLittleEndian(Take(4));

    /// <summary>Reads a length-delimited field.</summary>
    /// <param name="offset">The offset of the payload in the file.</param>
    /// <returns>The payload.</returns>
    public ReadOnlySpan<byte> ReadBytes(out int offset)
    {
        var length = ReadVarint();
        if (length > int.MaxValue)
        {
            throw new InvalidDataException($"length {length} too large at byte {Offset}");
        }

        offset = Offset;
        return Take((int)length);
    }

    /// <summary>Skips a field's value.</summary>
    /// <param name="wireType">The wire type from the field key.</param>
    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint:
                ReadVarint();
                break;
            case Fixed64:
                Take(8);
                break;
            case LengthDelimited:
                ReadBytes(out _);
                break;
            case Fixed32:
                Take(4);
                break;
            default:
                throw new InvalidDataException($"unsupported wire type {wireType} at byte {Offset}");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _position)
        {
            throw new InvalidDataException($"truncated: {count} bytes needed at byte {Offset}, {_data.Length - _position} left");
        }

        var span = _data.Slice(_position, count);
        _position += count;
        return span;
    }
}
