namespace Guard.Tokenizers;

/// <summary>
/// GPT-2's byte-to-character table used by byte-level BPE vocabularies (Llama 3): each byte is written as a printable
/// character (printable Latin-1 bytes as themselves, the others as U+0100 upwards), so a token is a string.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly short[] CharToByte = BuildCharToByte();

    /// <summary>Gets the character that stands for a byte.</summary>
    /// <param name="value">The byte.</param>
    /// <returns>The character.</returns>
    public static char ToChar(byte value) => ByteToChar[value];

    /// <summary>Converts a byte-level token string back to its bytes.</summary>
    /// <param name="token">The token as written in the vocabulary.</param>
    /// <param name="bytes">The bytes, when every character belongs to the alphabet.</param>
    /// <returns>Whether the token is a valid byte-level string.</returns>
    public static bool TryGetBytes(string token, out byte[] bytes)
    {
        bytes = new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            var c = token[i];
            if (c >= CharToByte.Length || CharToByte[c] < 0)
            {
                return false;
            }

            bytes[i] = (byte)CharToByte[c];
        }

        return true;
    }

    private static char[] BuildByteToChar()
    {
        var table = new char[256];
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= '¡' and <= '¬' or >= '®' and <= 'ÿ';
            table[b] = printable ? (char)b : (char)next++;
        }

        return table;
    }

    private static short[] BuildCharToByte()
    {
        var table = new short[324];
        Array.Fill(table, (short)-1);
        for (var b = 0; b < 256; b++)
        {
            table[ByteToChar[b]] = (short)b;
        }

        return table;
    }
}
