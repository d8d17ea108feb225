using System.Text;
using Guard.Conversations;

namespace Guard.Prompts;

/// <summary>
/// ADR 004's truncation rule: drop whole turns oldest first, never the last; then cut the start of the last turn's
/// text, keeping its end. Counts are always taken on the rendered conversation part.
/// </summary>
internal static class PromptTruncator
{
    public static TruncatedConversation Fit(GuardConversation conversation, int budget, Func<string, int> countTokens)
    {
        var turns = conversation.Turns;
        if (countTokens(LlamaGuardPromptRenderer.RenderConversation(conversation)) <= budget)
        {
            return new TruncatedConversation(conversation, false, 0, 0);
        }

        // Smallest number of dropped turns whose rendered rest fits, assuming fewer turns never count more tokens;
        // the candidate is checked again below in case the tokenizer disagrees.
        bool Fits(int start) => countTokens(LlamaGuardPromptRenderer.RenderTurns(turns, start, turns.Count)) <= budget;
        int low = 1, high = turns.Count - 1;
        while (low < high)
        {
            var mid = low + ((high - low) / 2);
            if (Fits(mid))
            {
                high = mid;
            }
            else
            {
                low = mid + 1;
            }
        }

        for (var start = low; start < turns.Count; start++)
        {
            if (Fits(start))
            {
                return new TruncatedConversation(conversation.FromNormalized([.. turns.Skip(start)]), true, start, 0);
            }
        }

        var last = turns[^1];
        var kept = CutHead(last, budget, countTokens);
        return new TruncatedConversation(
            conversation.FromNormalized([last with { Content = kept }]),
            true,
            turns.Count - 1,
            last.Content.Length - kept.Length);
    }

    /// <summary>The longest stripped tail of the turn's text whose rendered turn fits the budget.</summary>
    private static string CutHead(GuardTurn turn, int budget, Func<string, int> countTokens)
    {
        var content = turn.Content;
        bool Fits(int cut) => countTokens(Block(turn.Role, Tail(content, cut))) <= budget;

        // Smallest cut that fits, assuming the count shrinks as the text does; checked again below.
        int low = 1, high = content.Length;
        while (low < high)
        {
            var mid = low + ((high - low) / 2);
            if (Fits(mid))
            {
                high = mid;
            }
            else
            {
                low = mid + 1;
            }
        }

        var cut = low;
        while (cut < content.Length && (char.IsLowSurrogate(content[cut]) || !Fits(cut)))
        {
            cut++;
        }

        var tail = Tail(content, cut);
        if (tail.Length == 0)
        {
            throw new ArgumentOutOfRangeException(
                nameof(budget),
                budget,
                $"A budget of {budget} tokens for the conversation cannot hold any text of the last {PromptLayout.Label(turn.Role)} turn; raise the limit.");
        }

        return tail;
    }

    private static string Tail(string content, int cut) => PythonText.Strip(content[cut..]);

    private static string Block(GuardRole role, string content) =>
        LlamaGuardPromptRenderer.AppendTurn(new StringBuilder(), role, content).ToString();
}
