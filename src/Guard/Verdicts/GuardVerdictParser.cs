using Guard.Conversations;
using Guard.Prompts;

namespace Guard.Verdicts;

/// <summary>
/// Parses a Llama Guard answer (<c>safe</c>, or <c>unsafe</c> and a line of comma-separated codes) without ever
/// turning doubtful output into <see cref="GuardVerdictStatus.Safe"/>.
/// </summary>
/// <remarks>
/// Rules (ADR 004): surrounding whitespace and a trailing end-of-sequence token are ignored. Only the exact lowercase
/// <c>safe</c>, alone, is safe; <c>unsafe</c> in any letter case is unsafe (erring towards blocking), with codes read
/// from the rest of its line and the following lines, separated by commas or whitespace. Anything else (empty,
/// truncated like <c>uns</c>, <c>Safe</c>, <c>safe</c> followed by more text, prose) is unparseable.
/// </remarks>
public static class GuardVerdictParser
{
    /// <summary>At most this many unknown codes are kept, so a runaway answer cannot grow a verdict.</summary>
    public const int MaxUnknownCodes = 16;

    private const string SafeWord = "safe";
    private const string UnsafeWord = "unsafe";

    private static readonly string[] EndTokens = ["</s>", "<|eot_id|>", "<|end_of_text|>", "<|eom_id|>"];
    private static readonly char[] CodeSeparators = [',', ';', ' ', '\t', '\n'];

    /// <summary>Parses a model answer against the taxonomy the prompt listed.</summary>
    /// <param name="modelOutput">The generated text (special tokens may or may not have been skipped).</param>
    /// <param name="taxonomy">The taxonomy used in the prompt, to resolve codes.</param>
    public static ParsedVerdict Parse(string? modelOutput, GuardTaxonomy taxonomy)
    {
        ArgumentNullException.ThrowIfNull(taxonomy);
        var raw = modelOutput ?? string.Empty;
        var lines = Lines(raw);
        if (lines.Count == 0)
        {
            return Unparseable(raw, "The guard model's output is empty.");
        }

        var first = lines[0];
        if (first == SafeWord)
        {
            return lines.Count == 1
                ? new ParsedVerdict(GuardVerdictStatus.Safe, [], [], raw)
                : Unparseable(raw, "The output says 'safe' but goes on; a safe answer is the word alone.");
        }

        if (first.StartsWith(UnsafeWord, StringComparison.OrdinalIgnoreCase)
            && (first.Length == UnsafeWord.Length || first[UnsafeWord.Length] is ',' or ':' or ';' || PythonText.IsSpace(first[UnsafeWord.Length])))
        {
            var codes = string.Join('\n', lines.Skip(1).Prepend(first[UnsafeWord.Length..].TrimStart(':')));
            return ParseCodes(codes, taxonomy, raw);
        }

        return first.Equals(SafeWord, StringComparison.OrdinalIgnoreCase)
            ? Unparseable(raw, $"The output is '{first}', not the trained lowercase 'safe'.")
            : Unparseable(raw, "The output's first line is neither 'safe' nor 'unsafe'.");
    }

    private static ParsedVerdict ParseCodes(string text, GuardTaxonomy taxonomy, string raw)
    {
        var categories = new List<GuardCategory>();
        var unknown = new List<string>();
        foreach (var part in text.Split(CodeSeparators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var code = part.Trim('.');
            if (code.Length == 0)
            {
                continue;
            }

            if (taxonomy.TryGetCategory(code, out var category))
            {
                if (!categories.Contains(category))
                {
                    categories.Add(category);
                }
            }
            else if (unknown.Count < MaxUnknownCodes && !unknown.Contains(code, StringComparer.Ordinal))
            {
                unknown.Add(code);
            }
        }

        return new ParsedVerdict(GuardVerdictStatus.Unsafe, categories, unknown, raw);
    }

    /// <summary>The non-blank lines, stripped, after removing trailing end-of-sequence tokens.</summary>
    private static List<string> Lines(string raw)
    {
        var text = PythonText.Strip(raw);
        for (var again = true; again;)
        {
            again = false;
            foreach (var end in EndTokens)
            {
                if (text.EndsWith(end, StringComparison.Ordinal))
                {
                    text = PythonText.Strip(text[..^end.Length]);
                    again = true;
                }
            }
        }

        return [.. text.ReplaceLineEndings("\n").Split('\n').Select(PythonText.Strip).Where(l => l.Length > 0)];
    }

    private static ParsedVerdict Unparseable(string raw, string problem) =>
        new(GuardVerdictStatus.Unparseable, [], [], raw, problem);
}
