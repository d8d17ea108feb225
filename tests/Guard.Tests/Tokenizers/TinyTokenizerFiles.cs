using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace Guard.Tests.Tokenizers;

/// <summary>Small but valid tokenizer files to load, and to break one field at a time.</summary>
public static class TinyTokenizerFiles
{
    public const string Llama3Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Llama 2 style: &lt;unk&gt; &lt;s&gt; &lt;/s&gt;, 256 byte tokens, then ▁ a b ▁a ab (ids 259..263).</summary>
    public static JsonObject Llama2Json()
    {
        var vocab = new JsonObject { ["<unk>"] = 0, ["<s>"] = 1, ["</s>"] = 2 };
        for (var b = 0; b < 256; b++)
        {
            vocab[$"<0x{b:X2}>"] = 3 + b;
        }

        vocab["▁"] = 259;
        vocab["a"] = 260;
        vocab["b"] = 261;
        vocab["▁a"] = 262;
        vocab["ab"] = 263;
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(Added(0, "<unk>"), Added(1, "<s>"), Added(2, "</s>")),
            ["normalizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["normalizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Prepend", ["prepend"] = "▁" },
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = "▁" }),
            },
            ["pre_tokenizer"] = null,
            ["decoder"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["decoders"] = new JsonArray(
                    new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = "▁" }, ["content"] = " " },
                    new JsonObject { ["type"] = "ByteFallback" },
                    new JsonObject { ["type"] = "Fuse" },
                    new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["unk_token"] = "<unk>",
                ["fuse_unk"] = true,
                ["byte_fallback"] = true,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray("▁ a", "a b"),
            },
        };
    }

    /// <summary>Llama 3 style: the 256 byte tokens (GPT-2 alphabet), "Ġa", "ab", and two special tokens at 300 and 301.</summary>
    public static JsonObject Llama3Json()
    {
        var vocab = new JsonObject();
        for (var b = 0; b < 256; b++)
        {
            vocab[ByteChar(b).ToString()] = b;
        }

        vocab["Ġa"] = 256;
        vocab["ab"] = 257;
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(Added(300, "<|begin_of_text|>"), Added(301, "<|eot_id|>")),
            ["normalizer"] = null,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = Llama3Pattern }, ["behavior"] = "Isolated", ["invert"] = false },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
            },
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel" },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["ignore_merges"] = true,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray(new JsonArray("Ġ", "a"), new JsonArray("a", "b")),
            },
        };
    }

    /// <summary>The Llama 2 tiny vocabulary as a SentencePiece ModelProto.</summary>
    public static byte[] Llama2Model(int modelType = 2, int unkId = 0, bool removeExtraWhitespaces = false, string normalizer = "identity", int extraPieceType = 0)
    {
        var pieces = new List<(string Piece, float Score, int Type)> { ("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3) };
        for (var b = 0; b < 256; b++)
        {
            pieces.Add(($"<0x{b:X2}>", 0, 6));
        }

        pieces.AddRange([("▁", -10, 1), ("a", -11, 1), ("b", -12, 1), ("▁a", -1, 1), ("ab", -2, 1)]);
        if (extraPieceType != 0)
        {
            pieces.Add(("xyz", 0, extraPieceType));
        }

        var w = new ProtoWriter();
        foreach (var (piece, score, type) in pieces)
        {
            w.Message(1, m => m.Text(1, piece).Fixed32Field(2, score).VarintField(3, type));
        }

        w.Message(2, m => m.VarintField(3, modelType).VarintField(4, pieces.Count).VarintField(35, 1).VarintField(40, unkId).VarintField(41, 1).VarintField(42, 2).VarintField(43, -1));
        w.Message(3, m =>
        {
            m.Text(1, normalizer);
            if (normalizer != "identity")
            {
                m.Bytes(2, [1, 2, 3]);
            }

            m.VarintField(3, 1).VarintField(4, removeExtraWhitespaces ? 1 : 0).VarintField(5, 1);
        });
        return w.ToArray();
    }

    public static char ByteChar(int b)
    {
        var n = 0;
        for (var x = 0; x < 256; x++)
        {
            var printable = x is >= '!' and <= '~' or >= '¡' and <= '¬' or >= '®' and <= 'ÿ';
            if (x == b)
            {
                return printable ? (char)x : (char)(256 + n);
            }

            if (!printable)
            {
                n++;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(b));
    }

    private static JsonObject Added(int id, string content) => new()
    {
        ["id"] = id,
        ["content"] = content,
        ["single_word"] = false,
        ["lstrip"] = false,
        ["rstrip"] = false,
        ["normalized"] = false,
        ["special"] = true,
    };

    /// <summary>Protobuf writer for test models.</summary>
    public sealed class ProtoWriter
    {
        private readonly List<byte> _bytes = [];

        public ProtoWriter VarintField(int field, long value)
        {
            Varint((ulong)(field << 3));
            Varint((ulong)value);
            return this;
        }

        public ProtoWriter Fixed32Field(int field, float value)
        {
            Varint((ulong)((field << 3) | 5));
            Span<byte> b = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(b, value);
            _bytes.AddRange(b);
            return this;
        }

        public ProtoWriter Bytes(int field, byte[] value)
        {
            Varint((ulong)((field << 3) | 2));
            Varint((ulong)value.Length);
            _bytes.AddRange(value);
            return this;
        }

        public ProtoWriter Text(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public ProtoWriter Message(int field, Action<ProtoWriter> build)
        {
            var inner = new ProtoWriter();
            build(inner);
            return Bytes(field, inner.ToArray());
        }

        public byte[] ToArray() => [.. _bytes];

        private void Varint(ulong value)
        {
            do
            {
                var b = (byte)(value & 0x7F);
                value >>= 7;
                _bytes.Add(value != 0 ? (byte)(b | 0x80) : b);
            }
            while (value != 0);
        }
    }
}
