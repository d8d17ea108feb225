using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace Gateway.FunctionalTests.OfficialClients;

/// <summary>The official npm clients against a gateway whose policy blocks, judged by the real remote engine on a
/// scripted guard server, to both upstream kinds (js/moderation-openai.mjs and js/moderation-cloudflare.mjs do the
/// calls and their own checks; these assert their reports again). Records how each client surfaces a blocked prompt
/// (content_filter / 2016), a blocked answer (content_filter / 2017) and a stream cut by the response check, and that
/// neither marker ever reaches a client.</summary>
public sealed class ModerationNpmClientTests(ITestOutputHelper output) : IDisposable
{
    // The same values as MODERATION in js/harness.mjs.
    private const string PromptMarker = "PROMPT-MARKER-npm-build-a-weapon";
    private const string ResponseMarker = "RESPONSE-MARKER-npm-assemble-the-device";
    private const string UnsafeAsk = "tell me the unsafe thing";
    private const string SafeOpening = "This part is fine. ";
    private const string SafeText = "A safe answer, in several windows. It says \"hello\" with ünïcødé ✓ and 🙂;\nthen it ends here.";

    private const string PolicyFile = """
        policies:
          - name: strict
            prompt: { defaultAction: block, failMode: closed, timeout: 20s }
            response:
              defaultAction: block
              failMode: closed
              timeout: 20s
              streaming: { mode: windowed, window: 40, minWindow: 10, holdBack: 0 }
        """;

    private static readonly ScriptedAnswer Safe = new(["A safe answer, ", "in several windows. ", "It says \"hello\" ", "with ünïcødé ✓ and 🙂;\n", "then it ends here."]);
    private static readonly ScriptedAnswer Unsafe = new([SafeOpening, $"Then {ResponseMarker} ", "and more."]);
    private static readonly ScriptedAnswer UnsafeJson = new(["{\"answer\": \"" + SafeOpening, $"Then {ResponseMarker} ", "and more.\"}"]);

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-moderation-npm-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("WorkersAi")]
    [InlineData("OpenAi")]
    public async Task OpenAiClient_SurfacesBlocksAsContentFilter_AndStreamsEndNormally(string kind)
    {
        var (upstream, guard, gateway) = await StartAsync(kind);
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            var result = await NodeClientScript.RunAsync("moderation-openai.mjs", gateway.BaseAddress);
            output.WriteLine(result.Describe());

            NodeClientScript.AssertPassed(result);
            AssertNoMarker(result);
            foreach (var scenario in new[] { "blockedPrompt", "blockedPromptStream" })
            {
                var error = result.Scenario(scenario);
                Assert.Contains("BadRequestError", Classes(error));
                Assert.Equal(400, error.GetProperty("status").GetInt32());
                Assert.Equal("content_filter", error.GetProperty("code").GetString());
            }

            var completion = result.Scenario("blockedResponse").GetProperty("completion");
            var choice = completion.GetProperty("choices")[0];
            Assert.Equal("content_filter", choice.GetProperty("finish_reason").GetString());
            Assert.Equal(JsonValueKind.Null, choice.GetProperty("message").GetProperty("content").ValueKind);
            Assert.False(choice.GetProperty("message").TryGetProperty("tool_calls", out _));
            Assert.Equal("blocked", result.Scenario("blockedResponse").GetProperty("moderation").GetString());
            Assert.Equal("", result.Scenario("blockedCompletion").GetProperty("choices")[0].GetProperty("text").GetString());
            Assert.Contains("ContentFilterFinishReasonError", Classes(result.Scenario("blockedParse")));

            foreach (var scenario in new[] { "blockedStream", "blockedCompletionStream" })
            {
                var stream = result.Scenario(scenario);
                Assert.StartsWith(stream.GetProperty("text").GetString()!, SafeOpening, StringComparison.Ordinal);
                Assert.Equal(["content_filter"], stream.GetProperty("finishReasons").EnumerateArray().Select(e => e.GetString()));
                Assert.False(stream.TryGetProperty("threw", out _), "the iteration ended normally");
            }

            // The stream helper resolves with the filtered finish reason; with parseable input it rejects with the
            // SDK's own ContentFilterFinishReasonError, never a JSON parse error.
            var helper = result.Scenario("blockedStreamHelper");
            Assert.Equal("content_filter", helper.GetProperty("finishReason").GetString());
            Assert.False(helper.TryGetProperty("threw", out _));
            var structured = result.Scenario("blockedStreamHelperStructured");
            Assert.Contains("ContentFilterFinishReasonError", Classes(structured));
            Assert.DoesNotContain("SyntaxError", Classes(structured));

            Assert.Equal(SafeText, result.Scenario("safeStream").GetProperty("text").GetString());
            Assert.Equal(SafeText, result.Scenario("safeStreamHelper").GetProperty("text").GetString());

            // Blocked prompts never reached the upstream; the nine other calls did.
            Assert.Equal(9, upstream.Received.Count);
            Assert.DoesNotContain(upstream.Received, r => r.Body.Contains(PromptMarker, StringComparison.Ordinal));
            OfficialClientAssertions.UpstreamSawOnlyGatewayCredentials(upstream.Received.ToList(), "client-key");
        }
    }

    [Theory]
    [InlineData("WorkersAi")]
    [InlineData("OpenAi")]
    public async Task CloudflareClient_ThrowsTyped2016And2017_AndAStreamEndsWithThe2017Event(string kind)
    {
        var (upstream, guard, gateway) = await StartAsync(kind);
        await using (upstream)
        await using (guard)
        await using (gateway)
        {
            var result = await NodeClientScript.RunAsync("moderation-cloudflare.mjs", gateway.BaseAddress);
            output.WriteLine(result.Describe());

            NodeClientScript.AssertPassed(result);
            AssertNoMarker(result);
            foreach (var (scenario, code) in new[] { ("blockedPrompt", 2016), ("blockedPromptStream", 2016), ("blockedResponse", 2017), ("blockedPromptResponse", 2017) })
            {
                var error = result.Scenario(scenario);
                Assert.Contains("BadRequestError", Classes(error));
                Assert.Equal(400, error.GetProperty("status").GetInt32());
                Assert.Equal(code, Assert.Single(error.GetProperty("errors").EnumerateArray()).GetProperty("code").GetInt32());
            }

            var stream = result.Scenario("blockedStream");
            Assert.StartsWith(stream.GetProperty("text").GetString()!, SafeOpening, StringComparison.Ordinal);
            var terminal = stream.GetProperty("events").EnumerateArray().Last();
            Assert.False(terminal.GetProperty("success").GetBoolean());
            Assert.Equal(2017, terminal.GetProperty("errors")[0].GetProperty("code").GetInt32());
            // Awaited directly, a streamed ai.run resolves to undefined: the SDK does not parse SSE, so the cut is
            // only visible through the raw Response.
            Assert.Equal("undefined", result.Scenario("blockedStreamAwaitedDirectly").GetProperty("type").GetString());
            Assert.Equal(SafeText, result.Scenario("safeStream").GetProperty("text").GetString());
            Assert.Equal(SafeText, result.Scenario("safeUnary").GetProperty("response").GetString());

            Assert.Equal(6, upstream.Received.Count);
            Assert.DoesNotContain(upstream.Received, r => r.Body.Contains(PromptMarker, StringComparison.Ordinal));
            OfficialClientAssertions.UpstreamSawOnlyGatewayCredentials(upstream.Received.ToList(), "client-token");
        }
    }

    private static IEnumerable<string?> Classes(JsonElement error) => error.GetProperty("classes").EnumerateArray().Select(e => e.GetString());

    private static void AssertNoMarker(NodeScriptResult result)
    {
        foreach (var marker in new[] { PromptMarker, ResponseMarker })
        {
            Assert.DoesNotContain(marker, result.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain(marker, result.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(CapturingLoggerProvider.Instance.Lines, l => l.Contains(marker, StringComparison.Ordinal));
        }
    }

    private static ScriptedAnswer Choose(string body) => !body.Contains(UnsafeAsk, StringComparison.Ordinal)
        ? Safe
        : body.Contains("response_format", StringComparison.Ordinal) ? UnsafeJson : Unsafe;

    private async Task<(ScriptedUpstream Upstream, ScriptedGuardServer Guard, GatewayServer Gateway)> StartAsync(string kind)
    {
        var file = Path.Combine(_directory, "policies.yaml");
        await File.WriteAllTextAsync(file, PolicyFile);
        var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = ScriptedAnswers.Choose(Choose);
        ScriptedGuardServer? guard = null;
        try
        {
            guard = await ScriptedGuardServer.StartAsync();
            guard.Answer(PromptMarker, "unsafe\nS1", role: "User").Answer(ResponseMarker, "unsafe\nS1", role: "Agent");
            var config = GatewayServer.RouteAllTo(upstream, kind);
            foreach (var (key, value) in ScriptedGuardServer.GuardWith(guard))
            {
                config[key] = value;
            }
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
