namespace Bench.Common.Streams;

/// <summary>The answer the paced upstream streams (bench/Upstream with <c>--TokensPerSecond</c>): English-looking word
/// pieces, one per stream event, with a sentence end (<c>.</c>) every 15 to 25 pieces and at the very end. The same
/// count always gives the same pieces, so the stream-moderation driver can check what it received and predict the
/// gateway's windows. About 4.7 characters per piece, close to Llama tokenizers on English prose.</summary>
internal static class PacedText
{
    private static readonly string[] Starts = [" The", " This", " Each", " A", " Every", " Most", " Such", " Our"];

    private static readonly string[] Words =
    [
        " the", " model", " gateway", " checks", " each", " response", " before", " it", " reaches", " the", " client",
        ",", " and", " a", " guard", " judges", " what", " was", " generated", " so", " far", " stream", "ing", " token",
        "s", " window", " policy", " safety", " of", " to", " in", " is", " that", " with", " for", " text", " answer",
        " user", " request", " server", " moder", "ation", " latency", " held", " released", " when", " passes", " on",
        " time", " can", " be", " not", " an", " every", " small", " part", " reader", " sees", " only", " after",
    ];

    /// <summary>The pieces of an answer of <paramref name="count"/> pieces (at least 1).</summary>
    public static string[] Tokens(int count)
    {
        count = Math.Max(1, count);
        var tokens = new string[count];
        var state = 0x2545F491u;
        var sentenceLeft = 0;
        for (var i = 0; i < count; i++)
        {
            if (i == count - 1)
            {
                tokens[i] = ".";
                break;
            }
            if (sentenceLeft == 0)
            {
                // A new sentence of 15 to 25 pieces, its last one the full stop.
                sentenceLeft = 15 + (int)(Next(ref state) % 11);
                var start = Starts[Next(ref state) % (uint)Starts.Length];
                tokens[i] = i == 0 ? start.TrimStart() : start;
            }
            else
            {
                tokens[i] = sentenceLeft == 1 ? "." : Words[Next(ref state) % (uint)Words.Length];
            }
            sentenceLeft--;
        }
        return tokens;
    }

    // xorshift32: stable across runtimes, unlike System.Random's unseeded paths.
    private static uint Next(ref uint state)
    {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        return state;
    }
}
