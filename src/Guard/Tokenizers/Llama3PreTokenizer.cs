using System.Globalization;
using System.Runtime.CompilerServices;

namespace Guard.Tokenizers;

/// <summary>
/// The Llama 3 pre-tokenizer: splits text into the pieces that the regular expression
/// <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>
/// matches, one after another, as Hugging Face's <c>Split</c> (behavior Isolated) and tiktoken do.
/// </summary>
/// <remarks>
/// Hand-written instead of <see cref="System.Text.RegularExpressions.Regex"/> for two reasons. Correctness: .NET
/// regular expressions see UTF-16 units, so a letter outside the BMP (CJK extension B, mathematical letters) would not
/// match <c>\p{L}</c>; this scanner works on code points. Speed: one table lookup per character, no allocations.
/// <c>\s</c> is Unicode White_Space (what Oniguruma, Rust's regex and .NET use; JavaScript differs on U+0085 and
/// U+FEFF), and <c>(?i)</c> lets U+017F (ſ) match <c>s</c>, as Unicode case folding does.
/// </remarks>
internal static class Llama3PreTokenizer
{
    private const byte Letter = 1;
    private const byte Number = 2;
    private const byte Space = 4;
    private const byte LineBreak = 8;

    private static readonly byte[] BmpClasses = BuildTable();

    /// <summary>Finds where the piece that starts at <paramref name="start"/> ends.</summary>
    /// <param name="text">The text.</param>
    /// <param name="start">The start of the piece, less than the text length.</param>
    /// <returns>The index just after the piece.</returns>
    public static int NextPieceEnd(ReadOnlySpan<char> text, int start)
    {
        var n = text.Length;
        var c = text[start];

        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if (c == '\'' && start + 1 < n)
        {
            var c1 = Fold(text[start + 1]);
            if (c1 is 's' or 't' or 'm' or 'd')
            {
                return start + 2;
            }

            if (start + 2 < n)
            {
                var c2 = Fold(text[start + 2]);
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l'))
                {
                    return start + 3;
                }
            }
        }

        var cls = ClassAt(text, start, out var width);

        // [^\r\n\p{L}\p{N}]?\p{L}+
        if ((cls & Letter) != 0)
        {
            return SkipWhile(text, start + width, Letter);
        }

        if ((cls & (Number | LineBreak)) == 0 && start + width < n && (ClassAt(text, start + width, out _) & Letter) != 0)
        {
            return SkipWhile(text, start + width, Letter);
        }

        // \p{N}{1,3}
        if ((cls & Number) != 0)
        {
            var end = start + width;
            for (var count = 1; count < 3 && end < n; count++)
            {
                if ((ClassAt(text, end, out var w) & Number) == 0)
                {
                    break;
                }

                end += w;
            }

            return end;
        }

        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        var other = start;
        if (c == ' ' && start + 1 < n && IsOther(ClassAt(text, start + 1, out _)))
        {
            other = start + 1;
        }

        if (IsOther(ClassAt(text, other, out _)))
        {
            var end = SkipOthers(text, other);
            while (end < n && text[end] is '\r' or '\n')
            {
                end++;
            }

            return end;
        }

        // Whitespace (all of it is in the BMP, one UTF-16 unit per character).
        var runEnd = start;
        var lastBreak = -1;
        while (runEnd < n && (Class(text[runEnd]) & Space) != 0)
        {
            if (text[runEnd] is '\r' or '\n')
            {
                lastBreak = runEnd;
            }

            runEnd++;
        }

        // \s*[\r\n]+ : through the last line break of the run.
        if (lastBreak >= 0)
        {
            return lastBreak + 1;
        }

        // \s+(?!\S) : the run, less its last character when text follows it; else \s+
        if (runEnd < n && runEnd - start >= 2)
        {
            return runEnd - 1;
        }

        return runEnd;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte Class(char c) => BmpClasses[c];

    private static bool IsOther(byte cls) => (cls & (Letter | Number | Space)) == 0;

    private static char Fold(char c) => c switch
    {
        >= 'A' and <= 'Z' => (char)(c | 0x20),
        '\u017F' => 's', // LATIN SMALL LETTER LONG S case-folds to 's'
        _ => c,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static byte ClassAt(ReadOnlySpan<char> text, int i, out int width)
    {
        var c = text[i];
        if (!char.IsHighSurrogate(c) || i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]))
        {
            width = 1;
            return BmpClasses[c];
        }

        width = 2;
        return ClassOf(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(c, text[i + 1])));
    }

    private static int SkipWhile(ReadOnlySpan<char> text, int i, byte cls)
    {
        while (i < text.Length && (ClassAt(text, i, out var w) & cls) != 0)
        {
            i += w;
        }

        return i;
    }

    private static int SkipOthers(ReadOnlySpan<char> text, int i)
    {
        while (i < text.Length && IsOther(ClassAt(text, i, out var w)))
        {
            i += w;
        }

        return i;
    }

    private static byte ClassOf(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Letter,
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Number,
        _ => 0,
    };

    private static byte[] BuildTable()
    {
        var table = new byte[char.MaxValue + 1];
        for (var c = 0; c <= char.MaxValue; c++)
        {
            // Surrogates stay 0 (other): a lone surrogate is matched like any other non-letter.
            table[c] = char.IsSurrogate((char)c) ? (byte)0 : ClassOf(CharUnicodeInfo.GetUnicodeCategory((char)c));
        }

        // Unicode White_Space (= .NET char.IsWhiteSpace): 0009-000D, 0020, 0085, 00A0, 1680, 2000-200A, 2028, 2029, 202F, 205F, 3000.
        for (var c = 0; c <= char.MaxValue; c++)
        {
            if (char.IsWhiteSpace((char)c))
            {
                table[c] |= Space;
            }
        }

        table['\r'] |= LineBreak;
        table['\n'] |= LineBreak;
        return table;
    }
}
