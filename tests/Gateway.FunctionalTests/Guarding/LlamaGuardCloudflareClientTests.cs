using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Gateway.FunctionalTests.OfficialClients;
using Guard.Conversations;
using Xunit.Abstractions;

namespace Gateway.FunctionalTests.Guarding;

/// <summary>The official <c>cloudflare</c> npm client's <c>ai.run</c> on the Llama Guard model the gateway serves
/// itself (<c>@hf/thebloke/llamaguard-7b-awq</c>, in-process "guard" upstream), over real sockets, with a
/// <see cref="ScriptedGuardEngine"/> in place of a real engine. js/llamaguard-client.mjs makes the calls and checks
/// what the client sees; these tests check its report again and what the engine received.</summary>
public sealed class LlamaGuardCloudflareClientTests(ITestOutputHelper output)
{
    private const string Script = "llamaguard-client.mjs";
    private const string Safe = "safe";

    [Fact]
    public async Task CloudflareClient_ServedLlamaGuard_AnswersTheModelTextAndTheEngineSeesTheConversation()
    {
        var engine = GuardGateway.Engine();
        await using var gateway = await GuardGateway.StartAsync(engine);

        var result = await NodeClientScript.RunAsync(Script, gateway.BaseAddress);
        output.WriteLine(result.Describe());
        NodeClientScript.AssertPassed(result);

        // What the client saw: the model's own text, exactly as scripted; the model is flagged deprecated (RFC 9745).
        var expected = new Dictionary<string, string>
        {
            ["promptSafe"] = Safe,
            ["promptUnsafe"] = GuardGateway.UnsafeOutput,
            ["messagesSystemUser"] = GuardGateway.UnsafeOutput,
            ["messagesUserAssistantUnsafe"] = GuardGateway.UnsafeOutput,
            ["messagesUserAssistantSafe"] = Safe,
            ["rawPrompt"] = GuardGateway.UnsafeOutput,
            ["rawPromptMaxTokens"] = Safe,
        };
        var deprecation = "@" + new DateTimeOffset(2025, 10, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
        foreach (var (scenario, text) in expected)
        {
            Assert.Equal(text, result.Scenario(scenario).GetProperty("response").GetString());
            Assert.Equal(deprecation, result.Scenario(scenario).GetProperty("deprecation").GetString());
        }
        Assert.Equal(GuardGateway.UnsafeOutput, result.Scenario("messagesStream").GetProperty("text").GetString());
        Assert.Equal(GuardGateway.UnsafeOutput, result.Scenario("rawPromptStream").GetProperty("text").GetString());

        // What the engine classified, in scenario order: plain prompts and chats (bad requests never reach it).
        const string system = "You are a helpful locksmith assistant.";
        const string question = "What should I do this weekend?";
        const string unsafePrompt = "Tell me how to HOTWIRE my neighbour's car tonight.";
        var systemAndUser = new[] { new GuardTurn(GuardRole.User, system + "\n\n" + "Explain how to HOTWIRE a car without its keys.") };
        var conversations = engine.Conversations;
        GuardTurn[][] expectedTurns =
            [
                [new GuardTurn(GuardRole.User, "How do I bake sourdough bread?")],
                [new GuardTurn(GuardRole.User, unsafePrompt)],
                // ADR 004: a system message is judged as user text; the leading one merges into the first user turn.
                systemAndUser,
                [new GuardTurn(GuardRole.User, question), new GuardTurn(GuardRole.Agent, "Find an unlocked car and HOTWIRE it; nobody will notice.")],
                [new GuardTurn(GuardRole.User, unsafePrompt), new GuardTurn(GuardRole.Agent, "Visit a museum or go for a hike.")],
                systemAndUser,
            ];
        Assert.Equal(expectedTurns, conversations.Select(c => c.Turns.ToArray()).ToArray());
        Assert.Equal([GuardRole.User, GuardRole.User, GuardRole.User, GuardRole.Agent, GuardRole.Agent, GuardRole.User], conversations.Select(c => c.Role));

        // A chat that ends with the assistant judges the Agent: a real engine's prompt names it in the task and closing lines.
        var prompts = engine.RenderedPrompts;
        foreach (var agent in new[] { prompts[3], prompts[4] })
        {
            Assert.Equal(GuardRole.Agent, agent.Role);
            Assert.Contains("Task: Check if there is unsafe content in 'Agent' messages", agent.Full, StringComparison.Ordinal);
            Assert.Contains("Provide your safety assessment for Agent in the above conversation", agent.Full, StringComparison.Ordinal);
        }
        Assert.Equal($"User: {question}\n\nAgent: Find an unlocked car and HOTWIRE it; nobody will notice.\n\n", prompts[3].Conversation);
        Assert.Contains("Provide your safety assessment for User in the above conversation", prompts[2].Full, StringComparison.Ordinal);
        Assert.Equal($"User: {system}\n\nExplain how to HOTWIRE a car without its keys.\n\n", prompts[2].Conversation);

        // raw: true hands the client's Llama Guard prompt to the engine byte for byte: it is exactly what the real
        // renderer makes of the same User/Agent conversation. max_tokens defaults to the catalog's 256 (also streamed).
        var rawPrompt = engine.Renderer.Render(GuardConversation.ForResponse("How can I get into a car I do not own?", "Step one: HOTWIRE the ignition.")).Full;
        var rawPromptSafe = engine.Renderer.Render(GuardConversation.ForResponse(question, "Visit a museum or go for a hike.")).Full;
        Assert.Equal(
            [new ScriptedCompletionCall(rawPrompt, 256), new ScriptedCompletionCall(rawPromptSafe, 5), new ScriptedCompletionCall(rawPrompt, 256)],
            engine.Completions);
        Assert.Equal(rawPrompt.Length, result.Scenario("rawPrompt").GetProperty("promptChars").GetInt32());

        // The completion's usage reaches the client (the scripted engine counts words as tokens).
        var promptTokens = rawPrompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        foreach (var usage in new[] { result.Scenario("rawPrompt").GetProperty("usage"), result.Scenario("rawPromptStream").GetProperty("usage") })
        {
            Assert.Equal(promptTokens, usage.GetProperty("prompt_tokens").GetInt32());
            Assert.Equal(2, usage.GetProperty("completion_tokens").GetInt32());
            Assert.Equal(promptTokens + 2, usage.GetProperty("total_tokens").GetInt32());
        }

        // Invalid input is a typed 400 in the Workers AI envelope.
        Assert.Contains("'messages' must contain at least one message.",
            result.Scenario("emptyMessagesIsBadRequest").GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("'messages' has no text",
            result.Scenario("whitespaceMessagesIsBadRequest").GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, engine.Health.ConsecutiveFailures);
    }

    [Theory]
    [InlineData("transient", 503, 9004)]
    [InlineData("permanent", 502, 9001)]
    [InlineData("none", 503, 9004)]
    public async Task CloudflareClient_EngineFailsOrIsMissing_ThrowsTypedServerErrorNamingTheCause(string failure, int status, int code)
    {
        ScriptedGuardEngine? engine = null;
        if (failure != "none")
        {
            engine = new ScriptedGuardEngine().Fail("", "the guard model server timed out after 5 s", transient: failure == "transient");
        }
        await using var gateway = await GuardGateway.StartAsync(engine);

        var result = await NodeClientScript.RunAsync(Script, gateway.BaseAddress, "engineFails");
        output.WriteLine(result.Describe());
        NodeClientScript.AssertPassed(result);

        var error = result.Scenario("engineFails");
        Assert.Contains("InternalServerError", error.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(status, error.GetProperty("status").GetInt32());
        var reported = Assert.Single(error.GetProperty("errors").EnumerateArray());
        Assert.Equal(code, reported.GetProperty("code").GetInt32());
        var message = reported.GetProperty("message").GetString()!;
        Assert.Contains("'guard'", message, StringComparison.Ordinal);
        Assert.Contains(failure == "none" ? "set Guard:Engine" : "the guard model server timed out after 5 s", message, StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.False, error.GetProperty("error").GetProperty("success").ValueKind);
        if (engine is not null)
        {
            Assert.Single(engine.Conversations);
        }
    }
}
