using System.Text.Json;
using System.Text.Json.Nodes;
using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;
using Guard.Verdicts;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace Guard.Tests.Engines;

/// <summary>The remote engines against real HTTP servers on loopback that speak the Workers AI and OpenAI protocols.</summary>
public sealed class RemoteGuardEngineTests
{
    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };

    private static RemoteGuardOptions Options(LoopbackServer server, int attempts = 3) => new()
    {
        BaseAddress = server.BaseAddress,
        AccountId = "acct",
        ApiToken = "guard-token",
        MaxAttempts = attempts,
        RetryDelay = TimeSpan.FromMilliseconds(1),
        MaxRetryDelay = TimeSpan.FromMilliseconds(20),
        Timeout = TimeSpan.FromSeconds(5),
    };

    private static string WorkersAiAnswer(string response) =>
        JsonSerializer.Serialize(new { result = new { response }, success = true, errors = Array.Empty<object>(), messages = Array.Empty<object>() });

    [Fact]
    public async Task WorkersAi_SendsRenderedPromptRaw_AndParsesUnsafeVerdict()
    {
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(LoopbackServer.Json(200, WorkersAiAnswer("unsafe\nO3")));
        var engine = new WorkersAiGuardEngine(Options(server), Http, TimeProvider.System);
        var conversation = GuardConversation.ForPrompt("how do I hurt someone");

        var verdict = await engine.ClassifyAsync(conversation, CancellationToken.None);

        Assert.Equal(GuardVerdictStatus.Unsafe, verdict.Status);
        Assert.Equal(["O3"], verdict.Categories.Select(c => c.Code));
        Assert.Null(verdict.UnsafeProbability);
        Assert.Equal("remote-workers-ai", verdict.Engine);
        Assert.Equal("@hf/thebloke/llamaguard-7b-awq", verdict.Model);
        Assert.False(verdict.Truncated);
        var request = Assert.Single(server.Requests);
        Assert.Equal("/client/v4/accounts/acct/ai/run/@hf/thebloke/llamaguard-7b-awq", request.Path);
        Assert.Equal("Bearer guard-token", request.Authorization);
        var sent = JsonNode.Parse(request.Body)!;
        Assert.True(sent["raw"]!.GetValue<bool>());
        Assert.Equal(new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard1).Render(conversation).Full, sent["prompt"]!.GetValue<string>());
    }

    [Fact]
    public async Task WorkersAi_StructuredLlamaGuard3Answer_IsMapped()
    {
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(LoopbackServer.Json(200, """{"result":{"response":{"safe":false,"categories":["S1","S10"]}},"success":true,"errors":[],"messages":[]}"""));
        var options = Options(server);
        options.Family = GuardFamily.LlamaGuard3;
        options.Model = "@cf/meta/llama-guard-3-8b";
        var engine = new WorkersAiGuardEngine(options, Http, TimeProvider.System);

        var verdict = await engine.ClassifyAsync(GuardConversation.ForResponse("q", "a"), CancellationToken.None);

        Assert.Equal(GuardVerdictStatus.Unsafe, verdict.Status);
        Assert.Equal(["S1", "S10"], verdict.Categories.Select(c => c.Code));
    }

    [Fact]
    public async Task TransientErrors_AreRetried_ThenSucceed()
    {
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(LoopbackServer.Json(500, "{}"));
        server.Script.Add(LoopbackServer.Json(429, "{}", r => r.Headers.RetryAfter = "0"));
        server.Script.Add(LoopbackServer.Json(200, WorkersAiAnswer("safe")));
        var engine = new WorkersAiGuardEngine(Options(server, attempts: 3), Http, TimeProvider.System);

        var verdict = await engine.ClassifyAsync(GuardConversation.ForPrompt("hello"), CancellationToken.None);

        Assert.Equal(GuardVerdictStatus.Safe, verdict.Status);
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(GuardHealthStatus.Healthy, engine.Health.Status);
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(404)]
    public async Task ClientErrors_AreNotRetried(int status)
    {
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(LoopbackServer.Json(status, """{"success":false,"errors":[{"code":5006,"message":"bad"}]}"""));
        var engine = new WorkersAiGuardEngine(Options(server), Http, TimeProvider.System);

        var ex = await Assert.ThrowsAsync<GuardEngineException>(() => engine.ClassifyAsync(GuardConversation.ForPrompt("hello"), CancellationToken.None).AsTask());

        Assert.False(ex.Transient);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        Assert.Single(server.Requests);
        Assert.Equal(GuardHealthStatus.Degraded, engine.Health.Status);
    }

    [Fact]
    public async Task Timeout_IsRetried_ThenReportedAsTransientFailure_AndHealthTurnsUnhealthy()
    {
        // The server never answers; attempts time out on a fake clock that moves only once the server has the
        // attempt's request, so the outcome does not depend on how fast this machine is.
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(async context => await Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted));
        var options = Options(server, attempts: 3);
        options.Timeout = TimeSpan.FromSeconds(2);
        var time = new FakeTimeProvider();
        var engine = new WorkersAiGuardEngine(options, Http, time);

        var call = engine.ClassifyAsync(GuardConversation.ForPrompt("hello"), CancellationToken.None).AsTask();
        for (var attempt = 1; attempt <= options.MaxAttempts; attempt++)
        {
            await WaitUntilAsync(() => server.Requests.Count >= attempt || call.IsCompleted);
            Assert.Equal(attempt, server.Requests.Count);
            time.Advance(options.Timeout);
            // Through the backoff (at most MaxRetryDelay) to the next attempt, or to the end.
            await WaitUntilAsync(() =>
            {
                time.Advance(TimeSpan.FromMilliseconds(5));
                return server.Requests.Count > attempt || call.IsCompleted;
            });
        }
        var ex = await Assert.ThrowsAsync<GuardEngineException>(() => call);

        Assert.True(ex.Transient);
        Assert.Contains("no answer within 2 s", ex.Message, StringComparison.Ordinal);
        Assert.Equal(3, server.Requests.Count);
        Assert.Equal(GuardHealthStatus.Unhealthy, engine.Health.Status);
    }

    /// <summary>Polls a condition that real work (sockets, the server) makes true; the cap only stops a broken test.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 3000 && !condition(); i++)
        {
            await Task.Delay(10);
        }
        Assert.True(condition(), "the condition did not become true within 30 s");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"result":{"nothing":1},"success":true}""")]
    [InlineData("""{"success":false,"errors":[{"code":3040,"message":"Out of capacity"}],"result":null}""")]
    public async Task MalformedOrFailedAnswers_RaiseGuardEngineException_WithoutRetry(string body)
    {
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(LoopbackServer.Json(200, body));
        var engine = new WorkersAiGuardEngine(Options(server), Http, TimeProvider.System);

        await Assert.ThrowsAsync<GuardEngineException>(() => engine.ClassifyAsync(GuardConversation.ForPrompt("hello"), CancellationToken.None).AsTask());
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task UnparseableModelOutput_IsUnparseable_NeverSafe()
    {
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(LoopbackServer.Json(200, WorkersAiAnswer("uns")));
        var engine = new WorkersAiGuardEngine(Options(server), Http, TimeProvider.System);

        var verdict = await engine.ClassifyAsync(GuardConversation.ForPrompt("hello"), CancellationToken.None);

        Assert.Equal(GuardVerdictStatus.Unparseable, verdict.Status);
    }

    [Fact]
    public async Task Cancellation_IsHonoured()
    {
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(async context => await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted));
        var engine = new WorkersAiGuardEngine(Options(server), Http, TimeProvider.System);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => engine.ClassifyAsync(GuardConversation.ForPrompt("hello"), cts.Token).AsTask());
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task OpenAi_UsesCompletionsWithLogprobs_AndReadsUnsafeProbability()
    {
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(LoopbackServer.Json(200, """
            {"id":"c","object":"text_completion","choices":[{"index":0,"text":" unsafe\nO1","finish_reason":"stop",
              "logprobs":{"tokens":["▁unsafe","<0x0A>","O","1"],"token_logprobs":[-0.105,-0.01,-0.001,-0.2],
                          "top_logprobs":[{"▁unsafe":-0.105,"▁safe":-2.3},{"<0x0A>":-0.01},{"O":-0.001},{"1":-0.2}]}}],
             "usage":{"prompt_tokens":900,"completion_tokens":4,"total_tokens":904}}
            """));
        var options = Options(server);
        options.Model = "llama-guard";
        var engine = new OpenAiGuardEngine(options, Http, TimeProvider.System);

        var verdict = await engine.ClassifyAsync(GuardConversation.ForPrompt("hello"), CancellationToken.None);

        Assert.Equal(GuardVerdictStatus.Unsafe, verdict.Status);
        Assert.Equal(["O1"], verdict.Categories.Select(c => c.Code));
        Assert.Equal(Math.Exp(-0.105), verdict.UnsafeProbability!.Value, 1e-12);
        var request = Assert.Single(server.Requests);
        Assert.Equal("/v1/completions", request.Path);
        var sent = JsonNode.Parse(request.Body)!;
        Assert.Equal("llama-guard", sent["model"]!.GetValue<string>());
        Assert.Equal(5, sent["logprobs"]!.GetValue<int>());
        Assert.Equal(0, sent["temperature"]!.GetValue<int>());
    }

    [Fact]
    public void UnsafeProbability_FallsBackToOneMinusSafe_WhenUnsafeIsNotAmongAlternatives()
    {
        var logprobs = JsonNode.Parse("""{"tokens":["\n\n","safe"],"top_logprobs":[{"\n\n":-0.01},{"safe":-0.01,"Safe":-6}]}""")!.AsObject();

        var p = OpenAiGuardEngine.UnsafeProbabilityFromLogprobs(logprobs);

        Assert.Equal(1 - Math.Exp(-0.01), p!.Value, 1e-12);
    }

    [Fact]
    public void UnsafeProbability_IsNull_WithoutLogprobs()
    {
        Assert.Null(OpenAiGuardEngine.UnsafeProbabilityFromLogprobs(null));
        Assert.Null(OpenAiGuardEngine.UnsafeProbabilityFromLogprobs(JsonNode.Parse("""{"tokens":["Hello"],"top_logprobs":[{"Hello":-0.1}]}""")!.AsObject()));
    }

    [Fact]
    public async Task LongConversation_IsTruncatedToTheContext_AndTheVerdictSaysSo()
    {
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(LoopbackServer.Json(200, WorkersAiAnswer("safe")));
        var options = Options(server);
        options.ContextTokens = 2048;
        var engine = new WorkersAiGuardEngine(options, Http, TimeProvider.System);
        var turns = Enumerable.Range(0, 40).Select(i => new GuardTurn(i % 2 == 0 ? GuardRole.User : GuardRole.Agent, $"turn {i} " + new string('x', 300)));

        var verdict = await engine.ClassifyAsync(new GuardConversation(turns), CancellationToken.None);

        Assert.True(verdict.Truncated);
        var prompt = JsonNode.Parse(server.Requests.Single().Body)!["prompt"]!.GetValue<string>();
        Assert.True(RemoteGuardEngine.EstimateTokens(prompt) <= 2048 - options.MaxTokens);
        Assert.Contains("turn 39", prompt, StringComparison.Ordinal);
        Assert.DoesNotContain("turn 0 ", prompt, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_Validation_CollectsEveryProblem()
    {
        var errors = new RemoteGuardOptions { BaseAddress = null, Model = "", MaxAttempts = 0, MaxTokens = 0, ContextTokens = 10 }.Validate(workersAi: true);

        Assert.Equal(6, errors.Count);
    }
}
