using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.FunctionalTests.Infrastructure;

namespace Gateway.FunctionalTests.Policies;

/// <summary>The response check end to end: the gateway's real remote engine (<c>Guard:Engine</c> <c>OpenAi</c>) judges
/// the upstream's answer, as the agent turn of the whole conversation, on a scripted guard server over a real socket.
/// Every route and both upstream kinds: a blocked answer never shows its text (OpenAI: 200 with
/// <c>finish_reason: "content_filter"</c> and no content; Workers AI: 2017), a safe one arrives unchanged, a flag policy
/// forwards it with its categories, unsafe tool-call arguments block the answer, guard failures apply the response's
/// fail mode, and every decision is counted; streams end with the surface's terminal signal.</summary>
public sealed class ResponseCheckTests : IDisposable
{
    private const string Strict = "@cf/meta/llama-2-7b-chat-fp16";
    private const string Flagging = "@cf/mistral/mistral-7b-instruct-v0.1";
    private const string Lenient = "@cf/meta/llama-3.1-8b-instruct-awq";
    private const string HastyClosed = "@cf/meta/llama-2-7b-chat-int8";
    private const string HastyOpen = "@hf/thebloke/codellama-7b-instruct-awq";
    private const string Marker = "RESPONSE-MARKER-assemble-the-device";
    private const string FailMarker = "GUARD-SERVER-FAILS-ON-THIS-ANSWER";
    private const string StallMarker = "GUARD-SERVER-STALLS-ON-THIS-ANSWER";
    private const string SafeOpening = "This part is fine. ";

    // strict: windows of 40 characters (closing at a sentence end from 10), no hold-back, so a passed check releases
    // everything it covered.
    private const string PolicyFile = """
        policies:
          - name: strict
            prompt: { defaultAction: block, failMode: closed, timeout: 20s }
            response:
              defaultAction: block
              failMode: closed
              timeout: 20s
              streaming: { mode: windowed, window: 40, minWindow: 10, holdBack: 0 }
          - name: flagging
            match: { models: ["@cf/mistral/mistral-7b-instruct-v0.1"] }
            response: { defaultAction: flag, failMode: closed, timeout: 20s }
          - name: lenient
            match: { models: ["@cf/meta/llama-3.1-8b-instruct-awq"] }
            response: { defaultAction: block, failMode: open, timeout: 20s }
          - name: hasty-closed
            match: { models: ["@cf/meta/llama-2-7b-chat-int8"] }
            response: { defaultAction: block, failMode: closed, timeout: 1s, streaming: { window: 40, minWindow: 10, holdBack: 0 } }
          - name: hasty-open
            match: { models: ["@hf/thebloke/codellama-7b-instruct-awq"] }
            response: { defaultAction: block, failMode: open, timeout: 1s }
        """;

    private static readonly string[] RouteNames = ["ai/run", "client/v4", "chat", "completions"];
    private static readonly string[] Kinds = ["WorkersAi", "OpenAi"];

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-response-check-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>Every route with both upstream kinds.</summary>
    public static TheoryData<string, string> RoutesAndKinds
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var route in RouteNames)
            {
                foreach (var kind in Kinds)
                {
                    data.Add(route, kind);
                }
            }
            return data;
        }
    }

    /// <summary>Every route once, the upstream kinds alternating.</summary>
    public static TheoryData<string, string> RoutesOnce => new()
    {
        { "ai/run", "WorkersAi" },
        { "client/v4", "OpenAi" },
        { "chat", "WorkersAi" },
        { "completions", "OpenAi" },
    };

    /// <summary>The routes whose requests carry messages, where answers may call tools, with both upstream kinds.</summary>
    public static TheoryData<string, string, bool> ToolCallCases
    {
        get
        {
            var data = new TheoryData<string, string, bool>();
            foreach (var route in new[] { "ai/run", "client/v4", "chat" })
            {
                foreach (var kind in Kinds)
                {
                    data.Add(route, kind, true);
                    data.Add(route, kind, false);
                }
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(RoutesAndKinds))]
    public async Task BlockedAnswer_IsWithheld_InTheSurfacesFormat(string route, string kind)
    {
        var (upstream, guard, gateway) = await StartAsync(kind);
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            using var decisions = new ModerationDecisionListener(gateway);
            guard.Answer(Marker, "unsafe\nS1", role: "Agent");
            upstream.Handler = ScriptedAnswers.Always(new ScriptedAnswer($"Here is how: {Marker}, step by step."));

            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post(PathOf(route, Strict), Body(route, Strict)));
            var text = await response.Content.ReadAsStringAsync();
            using var json = JsonDocument.Parse(text);

            Assert.DoesNotContain(Marker, text, StringComparison.Ordinal);
            AssertBlocked(route, response, json.RootElement);
            Assert.Equal("strict", Header(response, "x-moderation-policy"));
            Assert.Equal("allowed", Header(response, "x-moderation-prompt"));
            Assert.Equal("blocked", Header(response, "x-moderation-response"));
            Assert.Equal("S1", Header(response, "x-moderation-response-categories"));
            Assert.Single(upstream.Received);
            Assert.Equal(1, decisions.Count("prompt", "allowed", "strict"));
            Assert.Equal(1, decisions.Count("response", "blocked", "strict"));
            AssertNotLogged(Marker);
        }
    }

    [Theory]
    [MemberData(nameof(RoutesAndKinds))]
    public async Task SafeAnswer_ArrivesUnchanged(string route, string kind)
    {
        var (upstream, guard, gateway) = await StartAsync(kind);
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            using var decisions = new ModerationDecisionListener(gateway);
            guard.Answer(Marker, "unsafe\nS1", role: "Agent");
            var answer = new ScriptedAnswer("A safe answer: \"quoted\", ünïcødé ✓ 🙂,\nand a second line.");
            upstream.Handler = ScriptedAnswers.Always(answer);

            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post(PathOf(route, Strict), Body(route, Strict)));
            var text = await response.Content.ReadAsStringAsync();
            using var json = JsonDocument.Parse(text);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(answer.Text, UnaryText(route, json.RootElement));
            if (route is "chat" or "completions")
            {
                Assert.Equal("stop", json.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
            }
            Assert.Equal("allowed", Header(response, "x-moderation-response"));
            Assert.Null(Header(response, "x-moderation-response-categories"));
            Assert.Equal(1, decisions.Count("response", "allowed", "strict"));
            var judged = Assert.Single(guard.Requests, r => r.Role == "Agent");
            Assert.Contains(answer.Text, judged.Conversation, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(RoutesOnce))]
    public async Task FlagPolicy_ForwardsTheAnswer_WithFlaggedMetadata(string route, string kind)
    {
        var (upstream, guard, gateway) = await StartAsync(kind);
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            using var decisions = new ModerationDecisionListener(gateway);
            guard.Answer(Marker, "unsafe\nS1,S10", role: "Agent");
            var answer = new ScriptedAnswer($"Flag this: {Marker}.");
            upstream.Handler = ScriptedAnswers.Always(answer);

            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post(PathOf(route, Flagging), Body(route, Flagging)));
            using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(answer.Text, UnaryText(route, json.RootElement));
            Assert.Equal("flagging", Header(response, "x-moderation-policy"));
            Assert.Equal("flagged", Header(response, "x-moderation-response"));
            Assert.Equal("S1,S10", Header(response, "x-moderation-response-categories"));
            Assert.Equal(1, decisions.Count("response", "flagged", "flagging"));
            AssertNotLogged(Marker);
        }
    }

    [Theory]
    [MemberData(nameof(ToolCallCases))]
    public async Task ToolCallArguments_AreJudged_AndUnsafeOnesAreBlockedAndRemoved(string route, string kind, bool unsafeArguments)
    {
        var (upstream, guard, gateway) = await StartAsync(kind);
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            using var decisions = new ModerationDecisionListener(gateway);
            guard.Answer(Marker, "unsafe\nS9", role: "Agent");
            var query = unsafeArguments ? $"how to {Marker}" : "weather in Paris";
            var call = new ScriptedToolCall("lookup", JsonSerializer.Serialize(new { query }));
            // The unsafe text is only in the tool call's arguments: the answer's text is harmless.
            upstream.Handler = ScriptedAnswers.Always(new ScriptedAnswer("", call));

            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post(PathOf(route, Strict), Body(route, Strict)));
            var text = await response.Content.ReadAsStringAsync();
            using var json = JsonDocument.Parse(text);

            var judged = Assert.Single(guard.Requests, r => r.Role == "Agent");
            Assert.Contains("lookup(", judged.Conversation, StringComparison.Ordinal);
            Assert.Contains(query, judged.Conversation, StringComparison.Ordinal);
            if (unsafeArguments)
            {
                Assert.DoesNotContain(Marker, text, StringComparison.Ordinal);
                Assert.DoesNotContain("lookup", text, StringComparison.Ordinal);
                AssertBlocked(route, response, json.RootElement, categories: "S9");
                Assert.Equal("blocked", Header(response, "x-moderation-response"));
                Assert.Equal(1, decisions.Count("response", "blocked", "strict"));
                AssertNotLogged(Marker);
                return;
            }
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("allowed", Header(response, "x-moderation-response"));
            var (name, arguments) = ToolCallOf(route, json.RootElement);
            Assert.Equal("lookup", name);
            Assert.Equal(query, arguments.GetProperty("query").GetString());
        }
    }

    [Theory]
    [MemberData(nameof(RoutesOnce))]
    public async Task Guard_JudgesTheWholeConversation_WithTheAnswerAsTheAgentTurn(string route, string kind)
    {
        var (upstream, guard, gateway) = await StartAsync(kind);
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            var answer = new ScriptedAnswer("The generated answer.");
            upstream.Handler = ScriptedAnswers.Always(answer);
            var messages = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = "system part" },
                new JsonObject { ["role"] = "user", ["content"] = "first question" },
                new JsonObject { ["role"] = "assistant", ["content"] = "first reply" },
                new JsonObject { ["role"] = "user", ["content"] = "second question" });

            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post(PathOf(route, Strict), Body(route, Strict, messages: messages)));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("allowed", Header(response, "x-moderation-response"));
            var prompt = Assert.Single(guard.Requests, r => r.Role == "User");
            var judged = Assert.Single(guard.Requests, r => r.Role == "Agent");
            Assert.DoesNotContain(answer.Text, prompt.Conversation, StringComparison.Ordinal);
            Assert.EndsWith($"Agent: {answer.Text}\n\n", judged.Conversation, StringComparison.Ordinal);
            if (route == "completions")
            {
                // A prompt is the user turn the answer follows.
                Assert.Equal($"User: second question\n\nAgent: {answer.Text}\n\n", judged.Conversation);
            }
            else
            {
                Assert.StartsWith("User: system part", judged.Conversation, StringComparison.Ordinal);
                Assert.Contains("first question", judged.Conversation, StringComparison.Ordinal);
                Assert.Contains("Agent: first reply\n\n", judged.Conversation, StringComparison.Ordinal);
                Assert.Contains("User: second question\n\n", judged.Conversation, StringComparison.Ordinal);
                Assert.True(judged.Conversation.IndexOf("second question", StringComparison.Ordinal)
                    < judged.Conversation.IndexOf(answer.Text, StringComparison.Ordinal), "the answer follows the last user turn");
            }
        }
    }

    public static TheoryData<string, string, string, string, string> Failures
    {
        get
        {
            var data = new TheoryData<string, string, string, string, string>();
            foreach (var route in new[] { "ai/run", "chat" })
            {
                data.Add(route, Strict, FailMarker, "strict", "fail-closed");
                data.Add(route, Lenient, FailMarker, "lenient", "fail-open");
                data.Add(route, HastyClosed, StallMarker, "hasty-closed", "fail-closed");
                data.Add(route, HastyOpen, StallMarker, "hasty-open", "fail-open");
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Failures))]
    public async Task GuardServerErrorOrStall_OnTheAnswer_AppliesTheResponsesFailMode(string route, string model, string marker, string policy, string outcome)
    {
        var (upstream, guard, gateway) = await StartAsync("OpenAi");
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            using var decisions = new ModerationDecisionListener(gateway);
            // Only the answer's check fails: the prompt check passes. A stall outlasts the policy's 1 s timeout (the
            // engine's own attempt timeout is 10 s), so the outcome does not depend on how long anything took.
            guard.Fail(FailMarker, 500, role: "Agent").Stall(StallMarker, role: "Agent");
            var answer = new ScriptedAnswer($"An answer the guard cannot judge: {marker}.");
            upstream.Handler = ScriptedAnswers.Always(answer);

            using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post(PathOf(route, model), Body(route, model)));
            var text = await response.Content.ReadAsStringAsync();
            using var json = JsonDocument.Parse(text);

            Assert.Equal(policy, Header(response, "x-moderation-policy"));
            Assert.Equal("allowed", Header(response, "x-moderation-prompt"));
            Assert.Equal(outcome, Header(response, "x-moderation-response"));
            Assert.Single(upstream.Received);
            if (outcome == "fail-closed")
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.DoesNotContain(marker, text, StringComparison.Ordinal);
                AssertGuardUnavailable(IsWorkersAi(route), json.RootElement);
            }
            else
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(answer.Text, UnaryText(route, json.RootElement));
            }
            Assert.Equal(1, decisions.Count("response", outcome, policy));
            Assert.Equal(1, decisions.Count("prompt", "allowed", policy));
            Assert.Equal(2, decisions.Decisions.Count);
            Assert.Contains(guard.Requests, r => r.Role == "Agent");
            AssertNotLogged(marker);
        }
    }

    [Theory]
    [MemberData(nameof(RoutesAndKinds))]
    public async Task SafeStream_ArrivesWithExactlyTheUpstreamsText(string route, string kind)
    {
        var (upstream, guard, gateway) = await StartAsync(kind);
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            guard.Answer(Marker, "unsafe\nS1", role: "Agent");
            // Over several 40-character windows, with sentence ends, escapes, non-ASCII text and a surrogate pair.
            var answer = new ScriptedAnswer([
                "First sentence of the answer. ", "It goes on \"quoted\" ", "with ünïcødé ✓ and 🙂; ",
                "then a line break\n", "and\ttabs, backslashes \\ ", "and a last sentence.",
            ]);
            upstream.Handler = ScriptedAnswers.Always(answer);

            using var response = await gateway.Client.SendAsync(
                ProxyRoundTripTests.Post(PathOf(route, Strict), Body(route, Strict, stream: true)), HttpCompletionOption.ResponseHeadersRead);
            var events = ProxyRoundTripTests.ParseSse(await response.Content.ReadAsStringAsync());

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("windowed", Header(response, "x-moderation-stream"));
            Assert.Equal("[DONE]", events[^1]);
            Assert.Single(events, e => e == "[DONE]");
            var parsed = events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement).ToList();
            Assert.DoesNotContain(parsed, IsErrorEvent);
            Assert.Equal(answer.Text, string.Concat(parsed.Select(e => StreamText(route, e))));
            if (!IsWorkersAi(route))
            {
                Assert.Equal(["stop"], parsed.Select(FinishReason).OfType<string>());
            }
            // Windowed: more than one check of the answer so far, the last one covering all of it.
            var checks = guard.Requests.Where(r => r.Role == "Agent").ToList();
            Assert.True(checks.Count >= 2, $"expected several window checks, got {checks.Count}");
            Assert.Contains(checks, c => c.Conversation.EndsWith($"Agent: {answer.Text}\n\n", StringComparison.Ordinal));
        }
    }

    public static TheoryData<string, string, bool> UnsafeStreamCases
    {
        get
        {
            var data = new TheoryData<string, string, bool>();
            foreach (var route in RouteNames)
            {
                foreach (var kind in Kinds)
                {
                    data.Add(route, kind, true);
                }
                data.Add(route, "OpenAi", false);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(UnsafeStreamCases))]
    public async Task UnsafeStream_EndsWithTheSurfacesTerminalSignal_AndNeverCarriesTheMarker(string route, string kind, bool safeOpening)
    {
        var (upstream, guard, gateway) = await StartAsync(kind);
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            using var decisions = new ModerationDecisionListener(gateway);
            guard.Answer(Marker, "unsafe\nS1", role: "Agent");
            // With a safe opening, the rest of the answer is sent only once the client received that opening, so it
            // was checked and released on its own before the unsafe text exists.
            var seenOpening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var answer = safeOpening
                ? new ScriptedAnswer([SafeOpening, $"Then {Marker} ", "and more."])
                : new ScriptedAnswer([$"Straight away {Marker} ", "and more."]);
            upstream.Handler = ScriptedAnswers.Choose(_ => answer, (i, aborted) => i == 1 && safeOpening
                ? seenOpening.Task.WaitAsync(TimeSpan.FromSeconds(30), aborted).ContinueWith(_ => { }, TaskScheduler.Default)
                : Task.CompletedTask);

            using var response = await gateway.Client.SendAsync(
                ProxyRoundTripTests.Post(PathOf(route, Strict), Body(route, Strict, stream: true)), HttpCompletionOption.ResponseHeadersRead);
            var raw = new StringBuilder();
            var text = new StringBuilder();
            var events = new List<string>();
            await foreach (var data in ReadSseAsync(response, raw))
            {
                events.Add(data);
                if (data != "[DONE]" && JsonDocument.Parse(data).RootElement is var e && !IsErrorEvent(e))
                {
                    text.Append(StreamText(route, e));
                    if (text.Length > 0)
                    {
                        seenOpening.TrySetResult();
                    }
                }
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("windowed", Header(response, "x-moderation-stream"));
            Assert.DoesNotContain(Marker, raw.ToString(), StringComparison.Ordinal);
            Assert.Equal(safeOpening ? SafeOpening : "", text.ToString());
            Assert.Equal("[DONE]", events[^1]);
            Assert.Single(events, e => e == "[DONE]");
            var terminal = JsonDocument.Parse(events[^2]).RootElement;
            if (IsWorkersAi(route))
            {
                Assert.False(terminal.GetProperty("success").GetBoolean());
                var error = Assert.Single(terminal.GetProperty("errors").EnumerateArray());
                Assert.Equal(2017, error.GetProperty("code").GetInt32());
                Assert.Equal("Response blocked due to security configurations (categories: S1).", error.GetProperty("message").GetString());
            }
            else
            {
                var choice = Assert.Single(terminal.GetProperty("choices").EnumerateArray());
                Assert.Equal("content_filter", choice.GetProperty("finish_reason").GetString());
                Assert.Equal("", StreamText(route, terminal));
                // Only the terminal chunk has a finish reason: the upstream's own never reached the client.
                Assert.Single(events.SkipLast(1), e => FinishReason(JsonDocument.Parse(e).RootElement) is not null);
            }
            // Window checks run concurrently: each check that saw the marker is a decision of its own.
            Assert.InRange(decisions.Count("response", "blocked", "strict"), 1, guard.Requests.Count(r => r.Role == "Agent"));
            Assert.DoesNotContain(decisions.Decisions, d => d.Role == "response" && d.Outcome is not ("allowed" or "blocked"));
            AssertNotLogged(Marker);
        }
    }

    [Theory]
    [InlineData("ai/run", true)]
    [InlineData("chat", true)]
    [InlineData("ai/run", false)]
    [InlineData("chat", false)]
    public async Task StreamWithoutAVerdict_FailsClosed_As503BeforeAnythingWasSent_OrAnErrorEventAfter(string route, bool safeOpening)
    {
        var (upstream, guard, gateway) = await StartAsync("OpenAi");
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            using var decisions = new ModerationDecisionListener(gateway);
            guard.Stall(StallMarker, role: "Agent");
            var seenOpening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var answer = safeOpening
                ? new ScriptedAnswer([SafeOpening, $"Then {StallMarker} ", "and more."])
                : new ScriptedAnswer([$"Straight away {StallMarker} ", "and more."]);
            upstream.Handler = ScriptedAnswers.Choose(_ => answer, (i, aborted) => i == 1 && safeOpening
                ? seenOpening.Task.WaitAsync(TimeSpan.FromSeconds(30), aborted).ContinueWith(_ => { }, TaskScheduler.Default)
                : Task.CompletedTask);

            using var response = await gateway.Client.SendAsync(
                ProxyRoundTripTests.Post(PathOf(route, HastyClosed), Body(route, HastyClosed, stream: true)), HttpCompletionOption.ResponseHeadersRead);
            var raw = new StringBuilder();
            var events = new List<string>();
            var text = new StringBuilder();
            if (!safeOpening)
            {
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                AssertGuardUnavailable(IsWorkersAi(route), json.RootElement);
                Assert.True(decisions.Count("response", "fail-closed", "hasty-closed") >= 1);
                return;
            }
            await foreach (var data in ReadSseAsync(response, raw))
            {
                events.Add(data);
                if (data != "[DONE]" && JsonDocument.Parse(data).RootElement is var e && !IsErrorEvent(e))
                {
                    text.Append(StreamText(route, e));
                    if (text.Length > 0)
                    {
                        seenOpening.TrySetResult();
                    }
                }
            }

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.DoesNotContain(StallMarker, raw.ToString(), StringComparison.Ordinal);
            Assert.Equal(SafeOpening, text.ToString());
            Assert.Equal("[DONE]", events[^1]);
            AssertGuardUnavailable(IsWorkersAi(route), JsonDocument.Parse(events[^2]).RootElement);
            Assert.True(decisions.Count("response", "fail-closed", "hasty-closed") >= 1);
            Assert.DoesNotContain(decisions.Decisions, d => d.Role == "response" && d.Outcome is not ("allowed" or "fail-closed"));
            AssertNotLogged(StallMarker);
        }
    }

    private static void AssertBlocked(string route, HttpResponseMessage response, JsonElement root, string categories = "S1")
    {
        if (IsWorkersAi(route))
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.False(root.GetProperty("success").GetBoolean());
            var error = Assert.Single(root.GetProperty("errors").EnumerateArray());
            Assert.Equal(2017, error.GetProperty("code").GetInt32());
            Assert.Equal($"Response blocked due to security configurations (categories: {categories}).", error.GetProperty("message").GetString());
            return;
        }
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var choice = Assert.Single(root.GetProperty("choices").EnumerateArray());
        Assert.Equal("content_filter", choice.GetProperty("finish_reason").GetString());
        if (route == "chat")
        {
            Assert.Equal("chat.completion", root.GetProperty("object").GetString());
            var message = choice.GetProperty("message");
            Assert.Equal("assistant", message.GetProperty("role").GetString());
            Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
            Assert.False(message.TryGetProperty("tool_calls", out _), "tool calls are removed");
        }
        else
        {
            Assert.Equal("text_completion", root.GetProperty("object").GetString());
            Assert.Equal("", choice.GetProperty("text").GetString());
        }
    }

    private static void AssertGuardUnavailable(bool workersAi, JsonElement root)
    {
        if (workersAi)
        {
            Assert.False(root.GetProperty("success").GetBoolean());
            var error = Assert.Single(root.GetProperty("errors").EnumerateArray());
            Assert.Equal(9004, error.GetProperty("code").GetInt32());
            Assert.Contains("fails closed", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
        else
        {
            var error = root.GetProperty("error");
            Assert.Equal("unavailable", error.GetProperty("code").GetString());
            Assert.Contains("fails closed", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }
    }

    private static void AssertNotLogged(string marker) =>
        Assert.DoesNotContain(CapturingLoggerProvider.Instance.Lines, l => l.Contains(marker, StringComparison.Ordinal));

    private static bool IsWorkersAi(string route) => route is "ai/run" or "client/v4";

    private static bool IsErrorEvent(JsonElement e) =>
        e.TryGetProperty("error", out _) || (e.TryGetProperty("success", out var s) && s.ValueKind == JsonValueKind.False);

    private static string PathOf(string route, string model) => route switch
    {
        "ai/run" => $"ai/run/{model}",
        "client/v4" => $"client/v4/accounts/acct/ai/run/{model}",
        "chat" => "v1/chat/completions",
        _ => "v1/completions",
    };

    /// <summary>A request on <paramref name="route"/>: <paramref name="messages"/> (default: a system and a user turn),
    /// or on <c>/v1/completions</c> the last message's text as the prompt.</summary>
    private static string Body(string route, string model, bool stream = false, JsonArray? messages = null)
    {
        messages ??= new JsonArray(
            new JsonObject { ["role"] = "system", ["content"] = "Answer briefly." },
            new JsonObject { ["role"] = "user", ["content"] = "What is the answer?" });
        var body = new JsonObject();
        if (route is "chat" or "completions")
        {
            body["model"] = model;
        }
        if (route == "completions")
        {
            body["prompt"] = messages[^1]!["content"]!.GetValue<string>();
        }
        else
        {
            body["messages"] = messages;
        }
        if (stream)
        {
            body["stream"] = true;
        }
        return body.ToJsonString();
    }

    private static string? UnaryText(string route, JsonElement root) => route switch
    {
        "ai/run" => root.GetProperty("response").GetString(),
        "client/v4" => root.GetProperty("result").GetProperty("response").GetString(),
        "chat" => root.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString(),
        _ => root.GetProperty("choices")[0].GetProperty("text").GetString(),
    };

    private static (string Name, JsonElement Arguments) ToolCallOf(string route, JsonElement root)
    {
        if (route == "chat")
        {
            var call = Assert.Single(root.GetProperty("choices")[0].GetProperty("message").GetProperty("tool_calls").EnumerateArray());
            var function = call.GetProperty("function");
            // OpenAI: arguments are a JSON object's text.
            return (function.GetProperty("name").GetString()!, JsonDocument.Parse(function.GetProperty("arguments").GetString()!).RootElement);
        }
        var result = route == "client/v4" ? root.GetProperty("result") : root;
        var entry = Assert.Single(result.GetProperty("tool_calls").EnumerateArray());
        // Workers AI: arguments are an object.
        Assert.Equal(JsonValueKind.Object, entry.GetProperty("arguments").ValueKind);
        return (entry.GetProperty("name").GetString()!, entry.GetProperty("arguments"));
    }

    private static string StreamText(string route, JsonElement e)
    {
        if (IsWorkersAi(route))
        {
            return e.TryGetProperty("response", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "";
        }
        if (!e.TryGetProperty("choices", out var choices) || choices.GetArrayLength() == 0)
        {
            return "";
        }
        var choice = choices[0];
        var value = route == "chat"
            ? choice.TryGetProperty("delta", out var d) && d.TryGetProperty("content", out var c) ? c : default
            : choice.TryGetProperty("text", out var t) ? t : default;
        return value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
    }

    private static string? FinishReason(JsonElement e) =>
        e.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0
            && choices[0].TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String
            ? f.GetString()
            : null;

    /// <summary>The data of each SSE event as it arrives; everything read is appended to <paramref name="raw"/>.</summary>
    private static async IAsyncEnumerable<string> ReadSseAsync(HttpResponseMessage response, StringBuilder raw)
    {
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(), Encoding.UTF8);
        var data = new List<string>();
        while (await reader.ReadLineAsync() is { } line)
        {
            raw.Append(line).Append('\n');
            if (line.Length == 0)
            {
                if (data.Count > 0)
                {
                    yield return string.Join("\n", data);
                    data.Clear();
                }
            }
            else if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                data.Add(line[5..].TrimStart());
            }
        }
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private async Task<(ScriptedUpstream Upstream, ScriptedGuardServer Guard, GatewayServer Gateway)> StartAsync(string kind)
    {
        var file = Path.Combine(_directory, "policies.yaml");
        await File.WriteAllTextAsync(file, PolicyFile);
        var upstream = await ScriptedUpstream.StartAsync();
        ScriptedGuardServer? guard = null;
        try
        {
            guard = await ScriptedGuardServer.StartAsync();
            var config = GatewayServer.RouteAllTo(upstream, kind);
            foreach (var (key, value) in ScriptedGuardServer.GuardWith(guard))
            {
                config[key] = value;
            }
            // HTTP 500 is transient: one retry, then the fail mode.
            config["Guard:Remote:MaxAttempts"] = "2";
            // A scripted stream may wait for the client; that silence is not what these tests are about.
            config["Gateway:Upstreams:backend:StreamIdleTimeout"] = "00:01:00";
            config["Policies:Files:0"] = file;
            config["Policies:Watch"] = "false";
            var gateway = await GatewayServer.StartAsync(config);
            return (upstream, guard, gateway);
        }
        catch
        {
            if (guard is not null)
            {
                await guard.DisposeAsync();
            }
            await upstream.DisposeAsync();
            throw;
        }
    }
}
