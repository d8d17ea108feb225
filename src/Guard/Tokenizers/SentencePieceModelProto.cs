using System.Text;

namespace Guard.Tokenizers;

/// <summary>
/// The fields of SentencePiece's <c>ModelProto</c> (sentencepiece_model.proto) that the tokenizer uses, with
/// SentencePiece's defaults, read with the minimal <see cref="ProtobufReader"/>.
/// </summary>
internal sealed class SentencePieceModelProto
{
    /// <summary>The piece type of ordinary text pieces.</summary>
    public const int Normal = 1;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Gets the pieces; the index is the token id.</summary>
    public List<Piece> Pieces { get; } = [];

    public int ModelType { get; set; } = 1; // UNIGRAM

    public bool ByteFallback { get; set; }

    public int UnkId { get; set; }

    public int BosId { get; set; } = 1;

    public int EosId { get; set; } = 2;

    public string NormalizerName { get; set; } = string.Empty;

    public bool HasCharsMap { get; set; }

    public bool AddDummyPrefix { get; set; } = true;

    public bool RemoveExtraWhitespaces { get; set; } = true;

    public bool EscapeWhitespaces { get; set; } = true;

    /// <summary>Reads a tokenizer.model file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The fields read; validation is the caller's.</returns>
    public static SentencePieceModelProto Parse(string path)
    {
        byte[] data;
        try
        {
            data = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TokenizerLoadException(path, null, $"cannot be read: {ex.Message}", ex);
        }

        if (data.Length == 0)
        {
            throw new TokenizerLoadException(path, null, "is empty; expected a SentencePiece model (protobuf ModelProto)");
        }

        var model = new SentencePieceModelProto();
        var field = "(top level)";
        try
        {
            var reader = new ProtobufReader(data);
            while (reader.TryReadTag(out var number, out var wireType))
            {
                switch (number, wireType)
                {
                    case (1, ProtobufReader.LengthDelimited):
                        field = $"pieces[{model.Pieces.Count}]";
                        model.Pieces.Add(ReadPiece(reader.ReadBytes(out var offset), offset));
                        break;
                    case (2, ProtobufReader.LengthDelimited):
                        field = "trainer_spec";
                        ReadTrainerSpec(reader.ReadBytes(out offset), offset, model);
                        break;
                    case (3, ProtobufReader.LengthDelimited):
                        field = "normalizer_spec";
                        ReadNormalizerSpec(reader.ReadBytes(out offset), offset, model);
                        break;
                    default:
                        field = $"field {number}";
                        reader.Skip(wireType);
                        break;
                }
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or DecoderFallbackException)
        {
            throw new TokenizerLoadException(path, field, $"corrupt or not a SentencePiece model: {ex.Message}", ex);
        }

        return model;
    }

    private static Piece ReadPiece(ReadOnlySpan<byte> data, int offset)
    {
        var reader = new ProtobufReader(data, offset);
        string? text = null;
        var score = 0f;
        var type = Normal;
        while (reader.TryReadTag(out var number, out var wireType))
        {
            switch (number, wireType)
            {
                case (1, ProtobufReader.LengthDelimited):
                    text = StrictUtf8.GetString(reader.ReadBytes(out _));
                    break;
                case (2, ProtobufReader.Fixed32):
                    score = reader.ReadFloat();
                    break;
                case (3, ProtobufReader.Varint):
                    type = (int)reader.ReadVarint();
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }

        return new Piece(text ?? throw new InvalidDataException($"piece without text at byte {offset}"), score, type);
    }

    private static void ReadTrainerSpec(ReadOnlySpan<byte> data, int offset, SentencePieceModelProto model)
    {
        var reader = new ProtobufReader(data, offset);
        while (reader.TryReadTag(out var number, out var wireType))
        {
            if (wireType != ProtobufReader.Varint)
            {
                reader.Skip(wireType);
                continue;
            }

            var value = reader.ReadVarint();
            switch (number)
            {
                case 3: model.ModelType = (int)value; break;
                case 35: model.ByteFallback = value != 0; break;
                case 40: model.UnkId = (int)value; break;
                case 41: model.BosId = (int)value; break;
                case 42: model.EosId = (int)value; break;
            }
        }
    }

    private static void ReadNormalizerSpec(ReadOnlySpan<byte> data, int offset, SentencePieceModelProto model)
    {
        var reader = new ProtobufReader(data, offset);
        while (reader.TryReadTag(out var number, out var wireType))
        {
            switch (number, wireType)
            {
                case (1, ProtobufReader.LengthDelimited):
                    model.NormalizerName = StrictUtf8.GetString(reader.ReadBytes(out _));
                    break;
                case (2, ProtobufReader.LengthDelimited):
                    model.HasCharsMap = reader.ReadBytes(out _).Length > 0;
                    break;
                case (3, ProtobufReader.Varint):
                    model.AddDummyPrefix = reader.ReadVarint() != 0;
                    break;
                case (4, ProtobufReader.Varint):
                    model.RemoveExtraWhitespaces = reader.ReadVarint() != 0;
                    break;
                case (5, ProtobufReader.Varint):
                    model.EscapeWhitespaces = reader.ReadVarint() != 0;
                    break;
                default:
                    reader.Skip(wireType);
                    break;
            }
        }
    }

    /// <summary>One piece: its text, score and type.</summary>
    /// <param name="Text">The piece text.</param>
    /// <param name="Score">The score (higher merges first).</param>
    /// <param name="Type">The piece type (NORMAL = 1 ... BYTE = 6).</param>
    internal readonly record struct Piece(string Text, float Score, int Type);
}
