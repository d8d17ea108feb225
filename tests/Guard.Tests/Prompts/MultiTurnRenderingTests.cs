using Guard.Conversations;
using Guard.Prompts;

namespace Guard.Tests.Prompts;

public sealed class MultiTurnRenderingTests
{
    public static TheoryData<GuardFamily, string> Families => new()
    {
        { GuardFamily.LlamaGuard1, "lg1" },
        { GuardFamily.LlamaGuard2, "lg2" },
        { GuardFamily.LlamaGuard3, "lg3" },
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void Render_ThreeTurnsEndingWithUser_ListsEveryTurnAndJudgesTheUser(GuardFamily family, string file)
    {
        var conversation = new GuardConversation(
        [
            new(GuardRole.User, "How do I bake bread?"),
            new(GuardRole.Agent, " Mix flour, water, yeast and salt. "),
            new(GuardRole.User, "\nAnd how long should it rise?\n"),
        ]);

        var rendered = new LlamaGuardPromptRenderer(family).Render(conversation);

        var expected = ReferenceFiles.Prefix(file + "_user.txt")
            + "User: How do I bake bread?\n\n"
            + "Agent: Mix flour, water, yeast and salt.\n\n"
            + "User: And how long should it rise?\n\n"
            + ReferenceFiles.Suffix(file + "_user.txt");
        Assert.Equal(expected, rendered.Full);
        Assert.Equal(GuardRole.User, rendered.Role);
        Assert.Equal(ReferenceFiles.Prefix(file + "_user.txt"), rendered.Prefix);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Render_FourTurnsEndingWithAgent_ListsEveryTurnAndJudgesTheAgent(GuardFamily family, string file)
    {
        var conversation = new GuardConversation(
        [
            new(GuardRole.User, "{USER_MESSAGE}"),
            new(GuardRole.Agent, "{AGENT_MESSAGE}"),
            new(GuardRole.User, "second question"),
            new(GuardRole.Agent, "second answer"),
        ]);

        var rendered = new LlamaGuardPromptRenderer(family).Render(conversation);

        Assert.Equal(GuardRole.Agent, rendered.Role);
        Assert.Equal(ReferenceFiles.Prefix(file + "_agent.txt"), rendered.Prefix);
        Assert.Equal(ReferenceFiles.Suffix(file + "_agent.txt"), rendered.Suffix);
        Assert.Equal(
            "User: {USER_MESSAGE}\n\nAgent: {AGENT_MESSAGE}\n\nUser: second question\n\nAgent: second answer\n\n",
            rendered.Conversation);
        Assert.Equal(rendered.Full, rendered.Prefix + rendered.Conversation + rendered.Suffix);
        Assert.Contains(family == GuardFamily.LlamaGuard1 ? "for Agent in" : "ONLY THE LAST Agent message", rendered.Suffix, StringComparison.Ordinal);

        // The two-turn reference is this prompt with the last two turns removed.
        var twoTurns = rendered.Full.Replace("User: second question\n\nAgent: second answer\n\n", "", StringComparison.Ordinal);
        Assert.Equal(ReferenceFiles.Read(file + "_agent.txt"), twoTurns);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Render_ConversationStartingWithAgent_IsRenderedAsIs(GuardFamily family, string file)
    {
        var conversation = new GuardConversation([new(GuardRole.Agent, "Hello, how can I help?"), new(GuardRole.User, "{USER_MESSAGE}")]);

        var rendered = new LlamaGuardPromptRenderer(family).Render(conversation);

        Assert.Equal("Agent: Hello, how can I help?\n\nUser: {USER_MESSAGE}\n\n", rendered.Conversation);
        Assert.Equal(ReferenceFiles.Prefix(file + "_user.txt"), rendered.Prefix);
    }

    [Fact]
    public void Render_ConsecutiveSameRoleTurns_AreMergedWithABlankLine()
    {
        var conversation = new GuardConversation(
        [
            new(GuardRole.User, "first "),
            new(GuardRole.User, " second"),
            new(GuardRole.Agent, "a"),
            new(GuardRole.Agent, "   "),
            new(GuardRole.Agent, "b"),
        ]);

        var rendered = new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard3).Render(conversation);

        Assert.Equal(2, conversation.Turns.Count);
        Assert.Equal("User: first\n\nsecond\n\nAgent: a\n\nb\n\n", rendered.Conversation);
    }
}
