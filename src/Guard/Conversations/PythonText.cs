namespace Guard.Conversations;

/// <summary>Python's <c>str.strip()</c>, which the Llama Guard chat templates apply to every message.</summary>
internal static class PythonText
{
    /// <summary>Removes leading and trailing characters that Python's <c>str.isspace()</c> accepts.</summary>
    public static string Strip(string text)
    {
        var span = text.AsSpan();
        var start = 0;
        while (start < span.Length && IsSpace(span[start]))
        {
            start++;
        }

        var end = span.Length;
        while (end > start && IsSpace(span[end - 1]))
        {
            end--;
        }

        return start == 0 && end == span.Length ? text : text[start..end];
    }

    /// <summary>Python's whitespace set: .NET's plus the ASCII separators U+001C..U+001F.</summary>
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001C' and <= '\u001F';
}
