using System.Net;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Guard.Conversations;

namespace Gateway.FunctionalTests.Guarding;

/// <summary>The served Llama Guard model over plain HTTP on both Workers AI paths (<c>/ai/run/...</c> and
/// <c>/client/v4/accounts/.../ai/run/...</c>): answers, <c>max_tokens</c> defaults, invalid input, engine failures and
/// a missing engine, each in the Workers AI error envelope.</summary>
public sealed class LlamaGuardHttpTests
{
    public static TheoryData<string> Paths => GuardGateway.Paths;

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Prompt_IsClassifiedAsUserTurn_AndAnswersTheModelText(string path)
    {
        var engine = GuardGateway.Engine();
        await using var gateway = await GuardGateway.StartAsync(engine);

        var unsafeAnswer = await GuardGateway.PostAsync(gateway, path, """{"prompt":"  How do I HOTWIRE a car?  "}""");
        var safeAnswer = await GuardGateway.PostAsync(gateway, path, """{"prompt":"How do I bake bread?"}""");

        Assert.Equal(HttpStatusCode.OK, unsafeAnswer.Status);
        Assert.Equal(GuardGateway.UnsafeOutput, GuardGateway.Result(path, unsafeAnswer.Json).GetProperty("response").GetString());
        Assert.Equal("safe", GuardGateway.Result(path, safeAnswer.Json).GetProperty("response").GetString());
        // Classification reports no token usage (the engine gives a verdict, not a completion).
        Assert.False(GuardGateway.Result(path, safeAnswer.Json).TryGetProperty("usage", out _));
        Assert.NotNull(unsafeAnswer.Deprecation);
        // Stripped as the chat template strips it.
        GuardTurn[][] expected = [[new(GuardRole.User, "How do I HOTWIRE a car?")], [new(GuardRole.User, "How do I bake bread?")]];
        Assert.Equal(expected, engine.Conversations.Select(c => c.Turns.ToArray()).ToArray());
        Assert.Empty(engine.Completions);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Messages_WithToolTrafficAndSameRoleRuns_AreMappedByAdr004(string path)
    {
        var engine = GuardGateway.Engine();
        await using var gateway = await GuardGateway.StartAsync(engine);
        const string body = """
            {"messages":[
              {"role":"system","content":"Be brief."},
              {"role":"user","content":"Look up the weather."},
              {"role":"assistant","content":"Calling the tool."},
              {"role":"tool","content":"Sunny, 21 C."},
              {"role":"user","content":"   "},
              {"role":"user","content":"Now tell me how to HOTWIRE a car."}
            ]}
            """;

        var response = await GuardGateway.PostAsync(gateway, path, body);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(GuardGateway.UnsafeOutput, GuardGateway.Result(path, response.Json).GetProperty("response").GetString());
        var conversation = Assert.Single(engine.Conversations);
        // System into the first user turn, the tool result as User, the empty turn dropped, User runs merged.
        GuardTurn[] expected =
        [
            new(GuardRole.User, "Be brief.\n\nLook up the weather."),
            new(GuardRole.Agent, "Calling the tool."),
            new(GuardRole.User, "Sunny, 21 C.\n\nNow tell me how to HOTWIRE a car."),
        ];
        Assert.Equal(expected, conversation.Turns);
        Assert.Equal(GuardRole.User, conversation.Role);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Messages_EndingWithAssistant_ClassifyTheAgent(string path)
    {
        var engine = GuardGateway.Engine();
        await using var gateway = await GuardGateway.StartAsync(engine);

        var response = await GuardGateway.PostAsync(gateway, path,
            """{"messages":[{"role":"user","content":"How do I HOTWIRE a car?"},{"role":"assistant","content":"I can't help with that."}]}""");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        // The rule matches the judged (last) turn only, so the refusal is safe even though the prompt was not.
        Assert.Equal("safe", GuardGateway.Result(path, response.Json).GetProperty("response").GetString());
        var conversation = Assert.Single(engine.Conversations);
        Assert.Equal(GuardRole.Agent, conversation.Role);
        var prompt = Assert.Single(engine.RenderedPrompts);
        Assert.Equal(GuardRole.Agent, prompt.Role);
        Assert.EndsWith("Provide your safety assessment for Agent in the above conversation:\n- First line must read 'safe' or 'unsafe'.\n"
            + "- If unsafe, a second line must include a comma-separated list of violated categories. [/INST]", prompt.Full, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GuardGateway.ShortPath, "", false, 256)]
    [InlineData(GuardGateway.RestPath, "", false, 256)]
    [InlineData(GuardGateway.ShortPath, "", true, 256)]
    [InlineData(GuardGateway.RestPath, "", true, 256)]
    [InlineData(GuardGateway.ShortPath, ",\"max_tokens\":7", false, 7)]
    [InlineData(GuardGateway.RestPath, ",\"max_tokens\":1", true, 1)]
    [InlineData(GuardGateway.ShortPath, ",\"max_tokens\":256", false, 256)]
    public async Task RawPrompt_ReachesCompleteAsyncVerbatim_WithMaxTokensOrTheCatalogDefault(string path, string maxTokens, bool stream, int expected)
    {
        var engine = GuardGateway.Engine();
        await using var gateway = await GuardGateway.StartAsync(engine);
        var prompt = engine.Renderer.Render(GuardConversation.ForPrompt("  How do I HOTWIRE a car?\r\n")).Full;
        var body = $$"""{"prompt":{{JsonSerializer.Serialize(prompt)}},"raw":true,"stream":{{(stream ? "true" : "false")}}{{maxTokens}}}""";

        var response = await GuardGateway.PostAsync(gateway, path, body);

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal(new ScriptedCompletionCall(prompt, expected), Assert.Single(engine.Completions));
        Assert.Empty(engine.Conversations);
        string text;
        if (stream)
        {
            Assert.Equal("text/event-stream", response.ContentType);
            var events = GuardGateway.SseData(response.Text);
            Assert.Equal("[DONE]", events[^1]);
            text = string.Concat(events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement.GetProperty("response").GetString()));
        }
        else
        {
            text = GuardGateway.Result(path, response.Json).GetProperty("response").GetString()!;
        }
        Assert.Equal(GuardGateway.UnsafeOutput, text);
    }

    [Theory]
    [InlineData(GuardGateway.ShortPath, 257)]
    [InlineData(GuardGateway.RestPath, 0)]
    public async Task RawPrompt_MaxTokensOutOfRange_Is400AndNeverReachesTheEngine(string path, int maxTokens)
    {
        var engine = GuardGateway.Engine();
        await using var gateway = await GuardGateway.StartAsync(engine);

        var response = await GuardGateway.PostAsync(gateway, path, $$"""{"prompt":"[INST] hi [/INST]","raw":true,"max_tokens":{{maxTokens}}}""");

        var message = GuardGateway.AssertWorkersAiError(response, HttpStatusCode.BadRequest, 5006);
        Assert.Equal($"'max_tokens' must be between 1 and 256, got {maxTokens} (at 'max_tokens')", message);
        Assert.Empty(engine.Completions);
    }

    public static TheoryData<string, string, string> BadInputs()
    {
        var rows = new TheoryData<string, string, string>();
        foreach (var path in new[] { GuardGateway.ShortPath, GuardGateway.RestPath })
        {
            rows.Add(path, """{"messages":[]}""", "'messages' must contain at least one message. (at 'messages')");
            rows.Add(path, "{}", "Missing input: provide 'prompt' (a string) or 'messages'");
            rows.Add(path, """{"prompt":""}""", "'prompt' must not be empty");
            rows.Add(path, """{"prompt":"hi","messages":[{"role":"user","content":"hi"}]}""", "exactly one of 'prompt' or 'messages'");
            rows.Add(path, """{"messages":[{"role":"robot","content":"hi"}]}""", "'messages[0].role' must be one of system, user, assistant, tool");
            rows.Add(path, """{"messages":[{"role":"user","content":5}]}""", "'messages[0].content' must be a string");
            // Valid Workers AI input with nothing for the guard to judge: refused by the guard upstream, still a 400.
            rows.Add(path, """{"messages":[{"role":"system","content":" "},{"role":"user","content":"\u001f\t"}]}""", "'messages' has no text");
            rows.Add(path, """{"prompt":"   "}""", "'messages' has no text");
        }
        return rows;
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task BadInput_Is400InTheWorkersAiEnvelope_AndNothingIsClassified(string path, string body, string expected)
    {
        var engine = GuardGateway.Engine();
        await using var gateway = await GuardGateway.StartAsync(engine);

        var response = await GuardGateway.PostAsync(gateway, path, body);

        var message = GuardGateway.AssertWorkersAiError(response, HttpStatusCode.BadRequest, 5006);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.Empty(engine.Conversations);
        Assert.Empty(engine.Completions);
    }

    public static TheoryData<string, bool, string> EngineFailures()
    {
        var rows = new TheoryData<string, bool, string>();
        foreach (var path in new[] { GuardGateway.ShortPath, GuardGateway.RestPath })
        {
            foreach (var transient in new[] { true, false })
            {
                rows.Add(path, transient, """{"prompt":"hello"}""");
                rows.Add(path, transient, """{"messages":[{"role":"user","content":"hello"}],"stream":true}""");
                rows.Add(path, transient, """{"prompt":"[INST] hello [/INST]","raw":true}""");
            }
        }
        return rows;
    }

    [Theory]
    [MemberData(nameof(EngineFailures))]
    public async Task EngineFailure_Is503WhenTransientElse502_WithTheEngineMessage(string path, bool transient, string body)
    {
        var engine = new ScriptedGuardEngine().Fail("hello", "Workers AI answered 500 for the guard model", transient);
        await using var gateway = await GuardGateway.StartAsync(engine);

        var response = await GuardGateway.PostAsync(gateway, path, body);

        var message = transient
            ? GuardGateway.AssertWorkersAiError(response, HttpStatusCode.ServiceUnavailable, 9004)
            : GuardGateway.AssertWorkersAiError(response, HttpStatusCode.BadGateway, 9001);
        Assert.Equal(
            transient
                ? "Upstream 'guard' is unavailable: Workers AI answered 500 for the guard model"
                : "Upstream 'guard' failed (HTTP 502): Workers AI answered 500 for the guard model",
            message);
        Assert.Equal(1, engine.Conversations.Count + engine.Completions.Count);
        Assert.Equal(1, engine.Health.ConsecutiveFailures);
    }

    [Theory]
    [InlineData(GuardGateway.ShortPath, """{"prompt":"hello"}""")]
    [InlineData(GuardGateway.RestPath, """{"messages":[{"role":"user","content":"hello"}]}""")]
    [InlineData(GuardGateway.RestPath, """{"prompt":"[INST] hello [/INST]","raw":true,"stream":true}""")]
    public async Task NoEngineConfigured_Is503NamingGuardEngine(string path, string body)
    {
        await using var gateway = await GuardGateway.StartAsync(engine: null);

        var response = await GuardGateway.PostAsync(gateway, path, body);

        var message = GuardGateway.AssertWorkersAiError(response, HttpStatusCode.ServiceUnavailable, 9004);
        Assert.Equal("Upstream 'guard' is unavailable: no guard engine is configured; set Guard:Engine", message);
    }

    [Fact]
    public async Task SlowEngine_TimesOutAs504_AndTheEngineCallIsCancelled()
    {
        var engine = GuardGateway.Engine();
        engine.Delay = TimeSpan.FromSeconds(30);
        await using var gateway = await GuardGateway.StartAsync(engine, new() { ["Gateway:Upstreams:guard:ResponseTimeout"] = "00:00:01" });

        var response = await GuardGateway.PostAsync(gateway, GuardGateway.RestPath, """{"prompt":"hello"}""");

        var message = GuardGateway.AssertWorkersAiError(response, HttpStatusCode.GatewayTimeout, 3007);
        Assert.Contains("'guard'", message, StringComparison.Ordinal);
        for (var i = 0; i < 50 && engine.Cancellations == 0; i++)
        {
            await Task.Delay(100);
        }
        Assert.Equal(1, engine.Cancellations);
    }
}
