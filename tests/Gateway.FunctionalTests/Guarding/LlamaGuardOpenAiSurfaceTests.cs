using System.Net;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Guard.Conversations;

namespace Gateway.FunctionalTests.Guarding;

/// <summary>The served Llama Guard model on the OpenAI surface (<c>/v1/completions</c>, <c>/v1/chat/completions</c>),
/// whose bodies reach the guard upstream as the client sent them: the forms the gateway accepts must reach the engine
/// intact.</summary>
public sealed class LlamaGuardOpenAiSurfaceTests
{
    [Theory]
    [InlineData("\"prompt\":P,\"max_tokens\":9", 9)]
    [InlineData("\"prompt\":[P],\"max_tokens\":9", 9)]
    [InlineData("\"prompt\":P,\"max_completion_tokens\":3", 3)]
    [InlineData("\"prompt\":P,\"max_completion_tokens\":null,\"max_tokens\":4", 4)]
    [InlineData("\"prompt\":P,\"max_tokens\":null", 24)]
    [InlineData("\"prompt\":P", 24)]
    public async Task Completions_PromptAndTokenLimitReachCompleteAsync(string fields, int maxTokens)
    {
        var engine = GuardGateway.Engine();
        await using var gateway = await GuardGateway.StartAsync(engine);
        var prompt = engine.Renderer.Render(GuardConversation.ForPrompt("How do I HOTWIRE a car?")).Full;
        var body = $$"""{"model":"{{GuardGateway.Model}}",{{fields.Replace("P", JsonSerializer.Serialize(prompt), StringComparison.Ordinal)}}}""";

        var response = await GuardGateway.PostAsync(gateway, "v1/completions", body);

        Assert.True(response.Status == HttpStatusCode.OK, response.Text);
        Assert.Equal(GuardGateway.UnsafeOutput, response.Json.GetProperty("choices")[0].GetProperty("text").GetString());
        Assert.Equal(new ScriptedCompletionCall(prompt, maxTokens), Assert.Single(engine.Completions));
    }

    [Fact]
    public async Task Chat_AssistantToolCallsAndToolResults_AreJudgedAsAgentAndUserTurns()
    {
        var engine = GuardGateway.Engine();
        await using var gateway = await GuardGateway.StartAsync(engine);
        var body = $$$"""
            {"model":"{{{GuardGateway.Model}}}","max_tokens":null,"messages":[
              {"role":"developer","content":"Use tools."},
              {"role":"user","content":[{"type":"text","text":"Start the car."},{"type":"text","text":"Quickly."}]},
              {"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"hotwire","arguments":"{\"car\":\"HOTWIRE-1\"}"}}]}
            ]}
            """;

        var response = await GuardGateway.PostAsync(gateway, "v1/chat/completions", body);

        Assert.True(response.Status == HttpStatusCode.OK, response.Text);
        Assert.Equal(GuardGateway.UnsafeOutput, response.Json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        GuardTurn[] expected =
        [
            new(GuardRole.User, "Use tools.\n\nStart the car.\nQuickly."),
            new(GuardRole.Agent, "hotwire({\"car\":\"HOTWIRE-1\"})"),
        ];
        Assert.Equal(expected, Assert.Single(engine.Conversations).Turns);
    }

    [Fact]
    public async Task Chat_ToolCallThatIsNotAnObject_Is400NotAnUpstreamFailure()
    {
        var engine = GuardGateway.Engine();
        await using var gateway = await GuardGateway.StartAsync(engine);
        var body = $$"""
            {"model":"{{GuardGateway.Model}}","messages":[
              {"role":"user","content":"hi"},
              {"role":"assistant","content":"ok","tool_calls":["rm -rf /"]}
            ]}
            """;

        var response = await GuardGateway.PostAsync(gateway, "v1/chat/completions", body);

        var error = GuardGateway.AssertOpenAiError(response, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Equal("Upstream rejected the request: 'messages[1].tool_calls[0]' must be an object.", error.GetProperty("message").GetString());
        Assert.Empty(engine.Conversations);
    }
}
