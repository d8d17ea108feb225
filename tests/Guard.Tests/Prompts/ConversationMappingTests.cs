using Guard.Conversations;
using Guard.Prompts;

namespace Guard.Tests.Prompts;

public sealed class ConversationMappingTests
{
    private static GuardChatMessage Msg(string role, string? content) => new(role, content);

    private static (GuardRole Role, string Content)[] Turns(GuardConversation conversation) =>
        [.. conversation.Turns.Select(t => (t.Role, t.Content))];

    [Fact]
    public void SystemMessage_IsMergedIntoTheFirstUserTurn()
    {
        var conversation = GuardConversation.FromMessages([Msg("system", " You are a pirate. "), Msg("user", "Hi!")]);

        Assert.Equal([(GuardRole.User, "You are a pirate.\n\nHi!")], Turns(conversation));
    }

    [Fact]
    public void SystemAndDeveloperMessages_CanBeDropped()
    {
        var conversation = GuardConversation.FromMessages(
            [Msg("system", "secret"), Msg("developer", "also secret"), Msg("user", "Hi!")],
            SystemMessageHandling.Drop);

        Assert.Equal([(GuardRole.User, "Hi!")], Turns(conversation));
    }

    [Fact]
    public void SystemMessageAfterAnAssistantTurn_IsUserInputAtItsPosition()
    {
        var conversation = GuardConversation.FromMessages(
            [Msg("user", "a"), Msg("assistant", "b"), Msg("developer", "c"), Msg("user", "d")]);

        Assert.Equal([(GuardRole.User, "a"), (GuardRole.Agent, "b"), (GuardRole.User, "c\n\nd")], Turns(conversation));
    }

    [Fact]
    public void AssistantToolCalls_AreAgentTextWithNameAndArguments()
    {
        var conversation = GuardConversation.FromMessages(
        [
            Msg("user", "Weather in Paris and Rome?"),
            Msg("assistant", "Let me check.") with
            {
                ToolCalls = [new("get_weather", "{\"city\":\"Paris\"}"), new("get_weather", " {\"city\":\"Rome\"} ")],
            },
        ]);

        Assert.Equal(GuardRole.Agent, conversation.Role);
        Assert.Equal("Let me check.\nget_weather({\"city\":\"Paris\"})\nget_weather({\"city\":\"Rome\"})", conversation.Turns[^1].Content);
    }

    [Fact]
    public void ToolCallWithoutContentOrArguments_IsStillAgentText()
    {
        var conversation = GuardConversation.FromMessages(
            [Msg("user", "go"), Msg("assistant", null) with { ToolCalls = [new("list_files", null)] }]);

        Assert.Equal((GuardRole.Agent, "list_files()"), Turns(conversation)[^1]);
    }

    [Fact]
    public void ToolResults_AreUserInput_SoAToolLoopAlternates()
    {
        var conversation = GuardConversation.FromMessages(
        [
            Msg("system", "Be brief."),
            Msg("user", "Weather in Paris?"),
            Msg("assistant", null) with { ToolCalls = [new("get_weather", "{\"city\":\"Paris\"}")] },
            Msg("tool", "{\"temp\":21}"),
            Msg("assistant", "It is 21 degrees."),
        ]);

        Assert.Equal(
            [
                (GuardRole.User, "Be brief.\n\nWeather in Paris?"),
                (GuardRole.Agent, "get_weather({\"city\":\"Paris\"})"),
                (GuardRole.User, "{\"temp\":21}"),
                (GuardRole.Agent, "It is 21 degrees."),
            ],
            Turns(conversation));
        var rendered = new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard3).Render(conversation);
        Assert.Equal(
            "User: Be brief.\n\nWeather in Paris?\n\nAgent: get_weather({\"city\":\"Paris\"})\n\nUser: {\"temp\":21}\n\nAgent: It is 21 degrees.\n\n",
            rendered.Conversation);
        Assert.Contains("'Agent' messages", rendered.Prefix, StringComparison.Ordinal);
    }

    [Fact]
    public void LegacyFunctionResult_IsUserInput_AndRequestEndingInAToolResultJudgesTheUser()
    {
        var conversation = GuardConversation.FromMessages(
            [Msg("user", "q"), Msg("assistant", "") with { ToolCalls = [new("f", "{}")] }, Msg("function", "result")]);

        Assert.Equal(GuardRole.User, conversation.Role);
        Assert.Equal((GuardRole.User, "result"), Turns(conversation)[^1]);
    }

    [Fact]
    public void ConsecutiveSameRoleMessages_AreMergedWithoutAnException()
    {
        var conversation = GuardConversation.FromMessages(
            [Msg("user", "one"), Msg("user", "two"), Msg("assistant", "three"), Msg("assistant", "four"), Msg("user", "five")]);

        Assert.Equal(
            [(GuardRole.User, "one\n\ntwo"), (GuardRole.Agent, "three\n\nfour"), (GuardRole.User, "five")],
            Turns(conversation));
    }

    [Fact]
    public void EmptyMessagesAreSkipped_AndTheirNeighboursMerge()
    {
        var conversation = GuardConversation.FromMessages([Msg("user", "a"), Msg("assistant", "  "), Msg("user", "b")]);

        Assert.Equal([(GuardRole.User, "a\n\nb")], Turns(conversation));
    }

    [Fact]
    public void RoleNames_IgnoreCase()
    {
        var conversation = GuardConversation.FromMessages([Msg("USER", "a"), Msg("Assistant", "b")]);

        Assert.Equal(GuardRole.Agent, conversation.Role);
    }

    [Fact]
    public void UnknownRole_ThrowsNamingTheMessage()
    {
        var thrown = Assert.Throws<ArgumentException>("messages", () => GuardConversation.FromMessages([Msg("user", "a"), Msg("robot", "b")]));

        Assert.Contains("'messages[1].role' is 'robot'", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyConversation_ThrowsNamingMessages()
    {
        var thrown = Assert.Throws<ArgumentException>("messages", () => GuardConversation.FromMessages([]));

        Assert.Contains("'messages' is empty", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OnlyEmptyContents_ThrowsNamingMessages()
    {
        var thrown = Assert.Throws<ArgumentException>(
            "messages",
            () => GuardConversation.FromMessages([Msg("system", " "), Msg("user", "\n\t"), Msg("assistant", null)]));

        Assert.Contains("'messages' has no text", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OnlySystemMessages_Dropped_ThrowsNamingMessages()
    {
        Assert.Throws<ArgumentException>(
            "messages",
            () => GuardConversation.FromMessages([Msg("system", "only this")], SystemMessageHandling.Drop));
    }

    [Fact]
    public void NullMessages_ThrowsArgumentNull()
    {
        Assert.Throws<ArgumentNullException>("messages", () => GuardConversation.FromMessages(null!));
    }

    [Fact]
    public void EmptyTurns_ThrowNamingTurns()
    {
        Assert.Throws<ArgumentException>("turns", () => new GuardConversation([]));
        Assert.Throws<ArgumentException>("turns", () => new GuardConversation([new(GuardRole.User, "  ")]));
    }

    [Fact]
    public void EmptyPromptOrResponse_ThrowNamingTheArgument()
    {
        Assert.Throws<ArgumentException>("prompt", () => GuardConversation.ForPrompt(" \n "));
        Assert.Throws<ArgumentException>("response", () => GuardConversation.ForResponse("hi", ""));
    }

    [Fact]
    public void ForResponse_WithEmptyPrompt_JudgesTheResponseAlone()
    {
        var conversation = GuardConversation.ForResponse("", "answer");

        Assert.Equal([(GuardRole.Agent, "answer")], Turns(conversation));
    }
}
