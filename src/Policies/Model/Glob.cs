namespace Policies.Model;

/// <summary>Model-id globs: <c>*</c> matches any run of characters (including <c>/</c> and none); everything else is literal, ignoring case.</summary>
internal static class Glob
{
    public const char Star = '*';

    public static bool IsGlob(string pattern) => pattern.Contains(Star, StringComparison.Ordinal);

    /// <summary>Whether <paramref name="text"/> matches; linear backtracking over the last star, no allocation.</summary>
    public static bool Matches(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == Star)
            {
                star = p++;
                mark = t;
            }
            else if (p < pattern.Length && Same(pattern[p], text[t]))
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == Star)
        {
            p++;
        }

        return p == pattern.Length;
    }

    /// <summary>Whether some model id matches both patterns (each may be a glob or a literal id).</summary>
    public static bool Overlaps(string a, string b)
    {
        // Reachability over (i, j) positions of both patterns: a star may match nothing, or absorb one character of the
        // other pattern (a literal, or a piece of what the other star produces).
        var seen = new bool[a.Length + 1, b.Length + 1];
        var stack = new Stack<(int I, int J)>();
        stack.Push((0, 0));
        while (stack.Count > 0)
        {
            var (i, j) = stack.Pop();
            if (seen[i, j])
            {
                continue;
            }

            seen[i, j] = true;
            if (i == a.Length && j == b.Length)
            {
                return true;
            }

            var aStar = i < a.Length && a[i] == Star;
            var bStar = j < b.Length && b[j] == Star;
            if (aStar)
            {
                stack.Push((i + 1, j));
                if (j < b.Length)
                {
                    stack.Push((i, j + 1));
                }
            }

            if (bStar)
            {
                stack.Push((i, j + 1));
                if (i < a.Length)
                {
                    stack.Push((i + 1, j));
                }
            }

            if (!aStar && !bStar && i < a.Length && j < b.Length && Same(a[i], b[j]))
            {
                stack.Push((i + 1, j + 1));
            }
        }

        return false;
    }

    private static bool Same(char x, char y) => x == y || char.ToUpperInvariant(x) == char.ToUpperInvariant(y);
}
