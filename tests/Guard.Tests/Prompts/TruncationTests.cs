using Guard.Conversations;
using Guard.Prompts;

namespace Guard.Tests.Prompts;

public sealed class TruncationTests
{
    // A fake tokenizer: one token per character.
    private static readonly Func<string, int> Chars = s => s.Length;

    private static GuardConversation FourTurns() => new(
    [
        new(GuardRole.User, "aaaaaaaaaa"), // "User: aaaaaaaaaa\n\n" = 18
        new(GuardRole.Agent, "bbbbbbbbbb"), // "Agent: bbbbbbbbbb\n\n" = 19
        new(GuardRole.User, "cccccccccc"), // 18
        new(GuardRole.Agent, "dddddddddd"), // 19
    ]);

    [Fact]
    public void Fit_WhenItFits_ReturnsTheSameConversationUntouched()
    {
        var conversation = FourTurns();

        var fit = LlamaGuardPromptRenderer.Fit(conversation, 74, Chars);

        Assert.Same(conversation, fit.Conversation);
        Assert.Equal(new TruncatedConversation(conversation, false, 0, 0), fit);
    }

    [Theory]
    [InlineData(73, 1)] // one token short: the oldest turn goes
    [InlineData(56, 1)]
    [InlineData(55, 2)]
    [InlineData(37, 2)]
    [InlineData(36, 3)] // only the last turn is left, whole
    [InlineData(19, 3)]
    public void Fit_DropsWholeOldestTurnsFirst(int budget, int dropped)
    {
        var conversation = FourTurns();

        var fit = LlamaGuardPromptRenderer.Fit(conversation, budget, Chars);

        Assert.True(fit.Truncated);
        Assert.Equal(dropped, fit.DroppedTurns);
        Assert.Equal(0, fit.RemovedCharacters);
        Assert.Equal(conversation.Turns.Skip(dropped), fit.Conversation.Turns);
        Assert.True(LlamaGuardPromptRenderer.RenderConversation(fit.Conversation).Length <= budget);
        Assert.Equal(GuardRole.Agent, fit.Conversation.Role);
    }

    [Fact]
    public void Fit_LastTurnTooLong_KeepsTheLongestTailThatFits()
    {
        var conversation = new GuardConversation([new(GuardRole.User, "old"), new(GuardRole.Agent, "0123456789 abcdefghij")]);

        var fit = LlamaGuardPromptRenderer.Fit(conversation, 19, Chars); // "Agent: " + 10 + "\n\n"

        Assert.True(fit.Truncated);
        Assert.Equal(1, fit.DroppedTurns);
        var turn = Assert.Single(fit.Conversation.Turns);
        Assert.Equal((GuardRole.Agent, "abcdefghij"), (turn.Role, turn.Content));
        Assert.Equal(11, fit.RemovedCharacters);
    }

    [Fact]
    public void Fit_CutTail_IsStrippedLikeTheTemplate()
    {
        var conversation = GuardConversation.ForPrompt("head words   tail");

        var fit = LlamaGuardPromptRenderer.Fit(conversation, 14, Chars); // "User: " + 6 + "\n\n"

        // "s   tail" is 8 characters; the next cut, "   tail", strips to "tail", which fits.
        Assert.Equal("tail", fit.Conversation.Turns[0].Content);
        Assert.Equal(13, fit.RemovedCharacters);
        Assert.Equal(0, fit.DroppedTurns);
    }

    [Fact]
    public void Fit_NeverSplitsASurrogatePair()
    {
        var conversation = GuardConversation.ForPrompt(string.Concat(Enumerable.Repeat("\U0001F600", 10)));

        var fit = LlamaGuardPromptRenderer.Fit(conversation, 13, Chars); // room for 5 UTF-16 chars

        var content = fit.Conversation.Turns[0].Content;
        Assert.Equal(string.Concat(Enumerable.Repeat("\U0001F600", 2)), content);
        Assert.False(char.IsLowSurrogate(content[0]));
    }

    [Fact]
    public void Fit_NoRoomForAnyText_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LlamaGuardPromptRenderer.Fit(FourTurns(), 9, Chars));
    }

    [Fact]
    public void Fit_NonAdditiveCounter_StillEndsWithinBudget()
    {
        // Every count pays a one-token overhead, so per-turn sums overestimate; each candidate is re-counted whole.
        var calls = 0;
        int Counter(string s)
        {
            calls++;
            return s.Length + 1;
        }

        var fit = LlamaGuardPromptRenderer.Fit(FourTurns(), 38, Counter);

        Assert.True(Counter(LlamaGuardPromptRenderer.RenderConversation(fit.Conversation)) <= 38);
        Assert.Equal(2, fit.DroppedTurns);
        Assert.True(calls > 0);
    }

    [Theory]
    [InlineData(GuardFamily.LlamaGuard1)]
    [InlineData(GuardFamily.LlamaGuard2)]
    [InlineData(GuardFamily.LlamaGuard3)]
    public void Render_WithBudget_CountsTheFixedTextAndMarksTruncation(GuardFamily family)
    {
        var renderer = new LlamaGuardPromptRenderer(family);
        var fixedLength = renderer.GetPrefix(GuardRole.Agent).Length + renderer.GetSuffix(GuardRole.Agent).Length;

        var whole = renderer.Render(FourTurns(), fixedLength + 74, Chars);
        var cut = renderer.Render(FourTurns(), fixedLength + 40, Chars);

        Assert.False(whole.Truncated);
        Assert.Equal(renderer.Render(FourTurns()).Full, whole.Full);
        Assert.True(cut.Truncated);
        Assert.True(cut.Full.Length <= fixedLength + 40);
        Assert.Equal("User: cccccccccc\n\nAgent: dddddddddd\n\n", cut.Conversation);
        Assert.Same(renderer.GetPrefix(GuardRole.Agent), cut.Prefix);
        Assert.Equal(cut.Full, string.Concat(cut.Segments.Select(s => s.Text)));
    }

    [Fact]
    public void Render_BudgetBelowTheFixedText_ThrowsNamingTheLimit()
    {
        var renderer = new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard1);

        Assert.Throws<ArgumentOutOfRangeException>("maxPromptTokens", () => renderer.Render(FourTurns(), 900, s => s.Length));
    }
}
