using Guard.Conversations;
using Guard.Onnx.Engine;
using Guard.Verdicts;

namespace Guard.Tests.Onnx.Engine;

/// <summary>Growing responses cut into stream windows, and the comparison of a session's scores with full passes.</summary>
public static class StreamWindows
{
    /// <summary>The question the responses answer.</summary>
    public const string Question = "How do I bake bread?";

    /// <summary>A response with words, numbers, accents, CJK and emoji (surrogate pairs), long enough for many windows.</summary>
    public const string Response =
        "Sure. To bake a loaf, mix 500 g of flour with 350 g of water, 10 g of salt and 5 g of yeast. Knead it for ten "
        + "minutes until it's smooth; let it rise for an hour, fold, shape, then bake at 230 °C for thirty-five minutes. "
        + "Crème brûlée? 日本語の説明もできます。🍞🥖 Bon appétit — enjoy it!";

    /// <summary>The lengths the response is cut at: every <paramref name="step"/> characters, and every character of
    /// the accented, CJK and emoji part (where byte tokens and merges change most), never inside a surrogate pair;
    /// the last is the whole response.</summary>
    /// <param name="text">The response.</param>
    /// <param name="step">The regular step.</param>
    public static IReadOnlyList<int> Cuts(string text, int step)
    {
        var dense = text.IndexOf("brûlée", StringComparison.Ordinal);
        var denseEnd = text.IndexOf(" Bon", StringComparison.Ordinal);
        var cuts = new SortedSet<int>();
        for (var i = step; i < text.Length; i += step)
        {
            cuts.Add(i);
        }

        for (var i = dense; dense >= 0 && i < denseEnd; i++)
        {
            cuts.Add(i);
        }

        cuts.Add(text.Length);
        return [.. cuts.Where(c => c > 0 && !char.IsHighSurrogate(text[c - 1]))];
    }

    /// <summary>The conversation of a window: the question and the response so far.</summary>
    /// <param name="text">The response so far.</param>
    public static GuardConversation Window(string text) => GuardConversation.ForResponse(Question, text);

    /// <summary>Asserts two verdicts have the same unsafe probability within the reference tolerance (relative 1e-4).</summary>
    /// <param name="expected">The full pass's verdict.</param>
    /// <param name="actual">The session's verdict.</param>
    /// <param name="what">Names the window in the failure message.</param>
    public static void AssertSameScore(GuardVerdict expected, GuardVerdict actual, string what)
    {
        Assert.NotNull(expected.UnsafeProbability);
        Assert.NotNull(actual.UnsafeProbability);
        var pa = actual.UnsafeProbability.Value;
        var pb = expected.UnsafeProbability.Value;
        Assert.True(Math.Abs(pa - pb) <= 1e-4 * Math.Max(Math.Abs(pb), 1e-12), $"{what}: session {pa:R}, full pass {pb:R}");
    }

    /// <summary>Guard tokens a plain call with the cached prefix runs for a conversation's prompt (without its answer).</summary>
    /// <param name="engine">The engine.</param>
    /// <param name="conversation">The conversation.</param>
    public static int PlainPromptTokens(OnnxGuardEngine engine, GuardConversation conversation) =>
        engine.EncodeConversation(conversation).Ids.Length - engine.GetPrefixTokenCount(conversation.Role);
}
