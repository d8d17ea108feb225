using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.FunctionalTests.Telemetry;

/// <summary>What an operator's collector gets over OTLP/HTTP, received in-process and decoded from the raw protobuf:
/// for a blocked prompt, a blocked stream, a cache hit and a fail-open check, the API call's GenAI span with the
/// policy span, one <c>run_guardrail</c> span per guard check and the upstream call beneath it; the gateway's metrics
/// with their tags; one audit log record per request; and, by default, no prompt or response text anywhere in the
/// exported bytes.</summary>
[Collection(TelemetryExportGroup.Name)]
public sealed class AuditTelemetryTests : IDisposable
{
    private const string Strict = "@cf/meta/llama-2-7b-chat-fp16";
    private const string Lenient = "@cf/meta/llama-3.1-8b-instruct-awq";
    private const string Tenant = "otter-tenant";
    private const string ApiKey = "otter-api-key";

    // In every prompt and every response: none of the exports may contain them.
    private const string PromptMarker = "walrus-prompt-text-7731";
    private const string ResponseMarker = "zebra-response-text-4419";

    // Guard server rules (judged conversation contains): block a prompt, block an answer, fail with HTTP 500.
    private const string UnsafePrompt = "UNSAFE-PROMPT-build-a-weapon";
    private const string UnsafeAnswer = "UNSAFE-ANSWER-assemble-the-device";
    private const string GuardFails = "GUARD-FAILS-HERE";

    // strict: prompts and responses, both blocking and closed; streams held in windows of 10 characters (closing at a
    // sentence end from 5) with no hold-back, so a passed check releases everything it covered.
    // lenient: prompts only, failing open.
    private const string PolicyFile = """
        policies:
          - name: strict
            prompt: { defaultAction: block, failMode: closed, timeout: 20s }
            response:
              defaultAction: block
              failMode: closed
              timeout: 20s
              streaming: { mode: windowed, window: 10, minWindow: 5, holdBack: 0 }
          - name: lenient
            match: { models: ["@cf/meta/llama-3.1-8b-instruct-awq"] }
            prompt: { defaultAction: block, failMode: open, timeout: 20s }
            response: { check: false }
        """;

    // A unary answer is safe; a streamed one turns unsafe after its first window.
    private static readonly string[] UnaryWords = [ResponseMarker, " says", " hello", "."];
    private static readonly string[] StreamWords = [ResponseMarker, " says", " hello", " and", " then", " " + UnsafeAnswer, " now", "."];

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-audit-telemetry-").FullName;

    // A stream's first word was released to the client: only then does the upstream send the rest, so the first
    // window's passed check is applied before any check that sees the unsafe words.
    private readonly TaskCompletionSource _firstWordReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task BlockedPrompt_HasItsSpansMetricsAndAuditRecord_AndNoText()
    {
        var run = await RunAsync(async gateway =>
        {
            using var response = await SendAsync(gateway, Strict, $"{PromptMarker} {UnsafePrompt}", stream: false);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        });
        await using (run)
        {
            var spans = Mine(run.Otlp.Spans());
            var api = ApiSpan(spans, Strict);
            Assert.Equal("chat", api.Attributes.Text("gen_ai.operation.name"));
            Assert.Equal(Strict, api.Attributes.Text("gen_ai.request.model"));
            Assert.Equal("openai", api.Attributes.Text("gen_ai.provider.name"));
            Assert.Equal("OpenAiChat", api.Attributes.Text("gateway.api"));
            Assert.Equal("strict", api.Attributes.Text("gateway.moderation.policy"));
            Assert.Equal("blocked", api.Attributes.Text("gateway.moderation.outcome"));
            Assert.Equal(Tenant, api.Attributes.Text("gateway.tenant"));
            Assert.False(api.Attributes.Has("gen_ai.usage.input_tokens"));
            var server = Assert.Single(spans, s => s.SpanId == api.ParentSpanId);
            Assert.Equal(2, server.Kind);

            var policy = Assert.Single(spans, s => s.Name == "moderation.policy");
            Assert.Equal(api.SpanId, policy.ParentSpanId);
            Assert.Equal("strict", policy.Attributes.Text("gateway.moderation.policy"));
            Assert.Equal("openai-chat", policy.Attributes.Text("gateway.moderation.route"));

            var check = Assert.Single(GuardSpans(spans));
            Assert.Equal(api.SpanId, check.ParentSpanId);
            AssertGuardSpan(check, "input", "deny", "block", "strict", "blocked", "miss");
            Assert.Equal("unsafe", check.Attributes.Text("gateway.guard.verdict"));
            Assert.Equal(["S1"], check.Attributes.Strings("gateway.guard.categories"));
            var finding = Assert.Single(check.Events);
            Assert.Equal("gen_ai.guardrail.security.finding", finding.Name);
            Assert.Equal("S1", finding.Attributes.Text("gen_ai.guardrail.security.risk.category"));
            // The remote engine's HTTP call to the guard server is the check's child.
            Assert.Contains(spans, s => s.ParentSpanId == check.SpanId && s.Kind == 3);
            // Nothing was forwarded.
            Assert.Empty(run.Upstream.Received);
            Assert.DoesNotContain(spans, s => s.Name.StartsWith("upstream", StringComparison.Ordinal));

            var points = run.Otlp.Points();
            AssertPoint(points, "gateway.requests", 1,
                ("api", "OpenAiChat"), ("model", Strict), ("http.response.status_code", 400L), ("outcome", "blocked"));
            AssertPoint(points, "gateway.moderation.decisions", 1, ("policy", "strict"), ("role", "prompt"), ("outcome", "blocked"));
            AssertPoint(points, "gateway.moderation.blocks", 1, ("role", "prompt"), ("category", "S1"), ("policy", "strict"));
            AssertPoint(points, "gateway.guard.duration", 1, ("engine", EngineName(check)), ("role", "prompt"), ("cache", "miss"), ("outcome", "blocked"));
            AssertPoint(points, "gateway.cache.verdicts", 1, ("result", "miss"));
            Assert.Equal("s", points.First(p => p.Metric == "gateway.guard.duration").Unit);

            var audit = Assert.Single(AuditRecords(run.Otlp));
            Assert.Equal(api.TraceId, audit.TraceId);
            Assert.Equal(api.Attributes.Text("gateway.request.id"), audit.Attributes.Text("gateway.request.id"));
            AssertAudit(audit, "strict", "blocked", 400);
            AssertRole(audit, "prompt", "blocked", "S1", "block", "miss");
            AssertRole(audit, "response", "not-checked", "", "none", "none");

            AssertNoText(run.Otlp);
        }
    }

    [Fact]
    public async Task BlockedStream_HasItsSpansMetricsAndAuditRecord_AndNoText()
    {
        var run = await RunAsync(async gateway =>
        {
            using var response = await gateway.Client.SendAsync(Request(Strict, $"{PromptMarker} tell me", stream: true), HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            var body = new StringBuilder();
            while (await reader.ReadLineAsync() is { } line)
            {
                body.Append(line).Append('\n');
                if (line.Contains(ResponseMarker, StringComparison.Ordinal))
                {
                    _firstWordReceived.TrySetResult();
                }
            }
            Assert.Contains("content_filter", body.ToString(), StringComparison.Ordinal);
            Assert.Contains(ResponseMarker, body.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain(UnsafeAnswer, body.ToString(), StringComparison.Ordinal);
        });
        await using (run)
        {
            var spans = Mine(run.Otlp.Spans());
            var api = ApiSpan(spans, Strict);
            Assert.Equal("blocked", api.Attributes.Text("gateway.moderation.outcome"));
            Assert.Equal(true, api.Attributes["gateway.stream"]);
            Assert.Equal(["content_filter"], api.Attributes.Strings("gen_ai.response.finish_reasons"));

            var checks = GuardSpans(spans);
            Assert.All(checks, c => Assert.Equal(api.SpanId, ParentBelow(spans, c, api)));
            AssertGuardSpan(Assert.Single(checks, c => c.Attributes.Text("gen_ai.guardrail.target.type") == "input"),
                "input", "allow", "allow", "strict", "allowed", "miss");
            var outputs = checks.Where(c => c.Attributes.Text("gen_ai.guardrail.target.type") == "output").ToList();
            // The first window passed (and was released), a later one blocked.
            Assert.Contains(outputs, c => c.Attributes.Text("gen_ai.guardrail.verdict.type") == "allow");
            // Two checks may run at once; each that saw the unsafe words blocked.
            var blocked = outputs.Where(c => c.Attributes.Text("gen_ai.guardrail.verdict.type") == "deny").ToList();
            Assert.NotEmpty(blocked);
            Assert.All(blocked, b =>
            {
                AssertGuardSpan(b, "output", "deny", "block", "strict", "blocked", "miss");
                Assert.Equal(["S10"], b.Attributes.Strings("gateway.guard.categories"));
            });

            // The forwarded call: the upstream span under the API call's span, YARP's HTTP call to the upstream under it.
            var upstream = Assert.Single(spans, s => s.Name == "upstream backend");
            Assert.Equal(api.SpanId, upstream.ParentSpanId);
            Assert.Equal("backend", upstream.Attributes.Text("gateway.upstream"));
            var http = Assert.Single(spans, s => s.Kind == 3 && s.Attributes.Number("server.port") == run.Upstream.BaseAddress.Port);
            Assert.Equal(upstream.SpanId, ParentBelow(spans, http, upstream));

            var points = run.Otlp.Points();
            AssertPoint(points, "gateway.requests", 1,
                ("api", "OpenAiChat"), ("model", Strict), ("http.response.status_code", 200L), ("outcome", "blocked"));
            AssertPoint(points, "gateway.moderation.blocks", 1, ("role", "response"), ("category", "S10"), ("policy", "strict"));
            AssertPoint(points, "gateway.moderation.decisions", blocked.Count, ("policy", "strict"), ("role", "response"), ("outcome", "blocked"));
            AssertPoint(points, "gateway.stream.time_to_first_byte", 1, ("api", "OpenAiChat"), ("model", Strict), ("mode", "windowed"));
            var held = Assert.Single(points, p => p.Metric == "gateway.stream.hold.duration");
            Assert.Equal("windowed", held.Attributes.Text("mode"));
            Assert.True(held.Value >= 1, $"released events: {held.Value}");
            Assert.Equal("s", held.Unit);

            var audit = Assert.Single(AuditRecords(run.Otlp));
            AssertAudit(audit, "strict", "blocked", 200);
            AssertRole(audit, "prompt", "allowed", "", "allow", "miss");
            AssertRole(audit, "response", "blocked", "S10", "block", "miss");
            Assert.Equal("windowed", audit.Attributes.Text("gateway.stream.mode"));
            Assert.True(audit.Attributes.Number("gateway.moderation.response.stream_checks") >= 2);

            AssertNoText(run.Otlp);
        }
    }

    [Fact]
    public async Task CacheHit_IsOnTheCheck_TheMetricsAndTheAuditRecord_AndNoText()
    {
        var run = await RunAsync(async gateway =>
        {
            for (var i = 0; i < 2; i++)
            {
                using var response = await SendAsync(gateway, Lenient, $"{PromptMarker} the same words", stream: false);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
        });
        await using (run)
        {
            Assert.Equal(1, run.Guard.Calls);
            var spans = Mine(run.Otlp.Spans());
            var checks = GuardSpans(spans);
            Assert.Equal(2, checks.Count);
            var miss = Assert.Single(checks, c => c.Attributes.Text("gateway.cache.result") == "miss");
            var hit = Assert.Single(checks, c => c.Attributes.Text("gateway.cache.result") == "hit");
            AssertGuardSpan(hit, "input", "allow", "allow", "lenient", "allowed", "hit");
            Assert.Equal("safe", hit.Attributes.Text("gateway.guard.verdict"));
            // Only the miss called the guard server.
            Assert.Contains(spans, s => s.ParentSpanId == miss.SpanId && s.Kind == 3);
            Assert.DoesNotContain(spans, s => s.ParentSpanId == hit.SpanId);
            var apis = spans.Where(s => s.Name == $"chat {Lenient}").ToList();
            Assert.Equal(2, apis.Count);
            Assert.All(apis, a =>
            {
                Assert.Equal("allowed", a.Attributes.Text("gateway.moderation.outcome"));
                Assert.Equal(7L, a.Attributes.Number("gen_ai.usage.input_tokens"));
                Assert.Equal((long)UnaryWords.Length, a.Attributes.Number("gen_ai.usage.output_tokens"));
                Assert.Equal(["stop"], a.Attributes.Strings("gen_ai.response.finish_reasons"));
            });

            var points = run.Otlp.Points();
            AssertPoint(points, "gateway.cache.verdicts", 1, ("result", "hit"));
            AssertPoint(points, "gateway.cache.verdicts", 1, ("result", "miss"));
            AssertPoint(points, "gateway.guard.duration", 1, ("engine", EngineName(hit)), ("role", "prompt"), ("cache", "hit"), ("outcome", "allowed"));
            AssertPoint(points, "gateway.guard.duration", 1, ("engine", EngineName(hit)), ("role", "prompt"), ("cache", "miss"), ("outcome", "allowed"));
            AssertPoint(points, "gateway.requests", 2,
                ("api", "OpenAiChat"), ("model", Lenient), ("http.response.status_code", 200L), ("outcome", "allowed"));
            Assert.DoesNotContain(points, p => p.Metric == "gateway.moderation.blocks");

            var audits = AuditRecords(run.Otlp);
            Assert.Equal(2, audits.Count);
            Assert.All(audits, a => AssertAudit(a, "lenient", "allowed", 200));
            Assert.Single(audits, a => a.Attributes.Text("gateway.moderation.prompt.cache") == "hit");
            Assert.Single(audits, a => a.Attributes.Text("gateway.moderation.prompt.cache") == "miss");

            AssertNoText(run.Otlp);
        }
    }

    [Fact]
    public async Task FailOpen_IsAnErrorOnTheCheck_AndCountedAsFailOpen_AndNoText()
    {
        var run = await RunAsync(async gateway =>
        {
            using var response = await SendAsync(gateway, Lenient, $"{PromptMarker} {GuardFails}", stream: false);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        });
        await using (run)
        {
            var spans = Mine(run.Otlp.Spans());
            var api = ApiSpan(spans, Lenient);
            Assert.Equal("fail-open", api.Attributes.Text("gateway.moderation.outcome"));
            var check = Assert.Single(GuardSpans(spans));
            Assert.Equal(api.SpanId, check.ParentSpanId);
            Assert.Equal(2, check.StatusCode);
            Assert.Equal("engine_error", check.Attributes.Text("error.type"));
            Assert.False(check.Attributes.Has("gen_ai.guardrail.verdict.type"));
            Assert.Equal("allow", check.Attributes.Text("gen_ai.guardrail.action.type"));
            Assert.Equal("fail-open", check.Attributes.Text("gateway.moderation.outcome"));
            Assert.False(check.Attributes.Has("gateway.guard.verdict"));
            Assert.Single(run.Upstream.Received);
            Assert.Single(spans, s => s.Name == "upstream backend" && s.ParentSpanId == api.SpanId);

            var points = run.Otlp.Points();
            AssertPoint(points, "gateway.moderation.decisions", 1, ("policy", "lenient"), ("role", "prompt"), ("outcome", "fail-open"));
            AssertPoint(points, "gateway.requests", 1,
                ("api", "OpenAiChat"), ("model", Lenient), ("http.response.status_code", 200L), ("outcome", "fail-open"));
            AssertPoint(points, "gateway.guard.duration", 1, ("engine", EngineName(check)), ("role", "prompt"), ("cache", "miss"), ("outcome", "fail-open"));

            var audit = Assert.Single(AuditRecords(run.Otlp));
            AssertAudit(audit, "lenient", "fail-open", 200);
            AssertRole(audit, "prompt", "fail-open", "", "allow", "none");

            AssertNoText(run.Otlp);
        }
    }

    [Fact]
    public async Task AuditContent_On_PutsTheTextInTheAuditRecordOnly()
    {
        var run = await RunAsync(async gateway =>
        {
            using var response = await SendAsync(gateway, Lenient, $"{PromptMarker} hello", stream: false);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }, auditContent: true);
        await using (run)
        {
            var audit = Assert.Single(AuditRecords(run.Otlp));
            Assert.Contains(PromptMarker, audit.Attributes.Text("gateway.moderation.prompt.text"), StringComparison.Ordinal);
            Assert.Contains(ResponseMarker, audit.Attributes.Text("gateway.moderation.response.text"), StringComparison.Ordinal);
            foreach (var export in run.Otlp.Exports.Where(e => e.Path != "/v1/logs"))
            {
                Assert.False(Contains(export.Body, PromptMarker), $"the prompt text is in an export to {export.Path}");
                Assert.False(Contains(export.Body, ResponseMarker), $"the response text is in an export to {export.Path}");
            }
        }
    }

    private static HttpRequestMessage Request(string model, string prompt, bool stream)
    {
        var body = JsonSerializer.Serialize(new
        {
            model,
            messages = new[] { new { role = "user", content = prompt } },
            stream,
        });
        var request = ProxyRoundTripTests.Post("v1/chat/completions", body);
        request.Headers.Authorization = new("Bearer", ApiKey);
        return request;
    }

    private static Task<HttpResponseMessage> SendAsync(GatewayServer gateway, string model, string prompt, bool stream) =>
        gateway.Client.SendAsync(Request(model, prompt, stream));

    /// <summary>The spans of this test's requests: the traces its tenant's API calls are in.</summary>
    private static List<OtlpSpan> Mine(IReadOnlyList<OtlpSpan> spans)
    {
        var traces = spans.Where(s => s.Scope == "Gateway" && s.Attributes.Text("gateway.tenant") == Tenant).Select(s => s.TraceId).ToHashSet();
        return [.. spans.Where(s => traces.Contains(s.TraceId))];
    }

    private static OtlpSpan ApiSpan(IReadOnlyList<OtlpSpan> spans, string model) =>
        Assert.Single(spans, s => s.Scope == "Gateway" && s.Name == $"chat {model}");

    private static List<OtlpSpan> GuardSpans(IReadOnlyList<OtlpSpan> spans) =>
        [.. spans.Where(s => s.Scope == "Gateway" && s.Name.StartsWith("run_guardrail ", StringComparison.Ordinal))];

    private static string EngineName(OtlpSpan check) => check.Attributes.Text("gen_ai.guardrail.component.name")!;

    /// <summary>The id of <paramref name="span"/>'s nearest ancestor that is <paramref name="ancestor"/>, or its
    /// parent's id when none is (so an assertion on it shows where the chain went).</summary>
    private static string ParentBelow(IReadOnlyList<OtlpSpan> spans, OtlpSpan span, OtlpSpan ancestor)
    {
        var current = span;
        while (spans.FirstOrDefault(s => s.SpanId == current.ParentSpanId) is { } parent)
        {
            if (parent.SpanId == ancestor.SpanId)
            {
                return parent.SpanId;
            }
            current = parent;
        }
        return span.ParentSpanId;
    }

    private static void AssertGuardSpan(OtlpSpan check, string target, string verdict, string action, string policy, string outcome, string cache)
    {
        var engine = EngineName(check);
        Assert.False(string.IsNullOrEmpty(engine));
        Assert.Equal($"run_guardrail {engine}", check.Name);
        Assert.Equal("run_guardrail", check.Attributes.Text("gen_ai.operation.name"));
        Assert.Equal(target, check.Attributes.Text("gen_ai.guardrail.target.type"));
        Assert.Equal("llm", check.Attributes.Text("gen_ai.guardrail.target.subtype"));
        Assert.Equal(verdict, check.Attributes.Text("gen_ai.guardrail.verdict.type"));
        Assert.Equal(action, check.Attributes.Text("gen_ai.guardrail.action.type"));
        Assert.Equal(policy, check.Attributes.Text("gen_ai.guardrail.security.policy.id"));
        Assert.Equal(outcome, check.Attributes.Text("gateway.moderation.outcome"));
        Assert.Equal(cache, check.Attributes.Text("gateway.cache.result"));
        Assert.Equal(engine, check.Attributes.Text("gateway.guard.engine"));
        Assert.Equal(ScriptedGuardServer.LlamaGuard3Model, check.Attributes.Text("gateway.guard.model"));
        Assert.Equal(target == "input" ? "prompt" : "response", check.Attributes.Text("gateway.moderation.role"));
        Assert.IsType<double>(check.Attributes["gateway.guard.latency"]);
    }

    /// <summary>Exactly one point of <paramref name="metric"/> has <paramref name="tags"/> (and no other tags), with
    /// <paramref name="value"/> (a sum's value, a histogram's count).</summary>
    private static void AssertPoint(IReadOnlyList<OtlpPoint> points, string metric, double value, params (string Key, object Value)[] tags)
    {
        var matching = points.Where(p => p.Metric == metric
            && p.Attributes.Values.Count == tags.Length
            && tags.All(t => Equals(p.Attributes[t.Key], t.Value))).ToList();
        Assert.True(matching.Count == 1, $"{metric} {{{string.Join(", ", tags)}}} among:\n{string.Join("\n", points.Where(p => p.Metric == metric))}");
        Assert.Equal(value, matching[0].Value);
    }

    private static List<OtlpLog> AuditRecords(OtlpReceiver otlp) =>
        [.. otlp.Logs().Where(l => l.EventName == "gateway.moderation.audit")];

    private static void AssertAudit(OtlpLog audit, string policy, string outcome, int status)
    {
        Assert.Equal("Gateway.Pipeline.AuditStep", audit.Scope);
        Assert.Equal(9, audit.Severity);
        Assert.StartsWith("Moderation: policy {gateway.moderation.policy}", audit.Body, StringComparison.Ordinal);
        Assert.Equal(policy, audit.Attributes.Text("gateway.moderation.policy"));
        Assert.Equal(outcome, audit.Attributes.Text("gateway.moderation.outcome"));
        Assert.Equal(Tenant, audit.Attributes.Text("gateway.tenant"));
        Assert.False(string.IsNullOrEmpty(audit.Attributes.Text("gateway.request.id")));
        Assert.Equal(status, audit.Attributes.Number("http.response.status_code"));
        Assert.False(audit.Attributes.Has("gateway.moderation.prompt.text"));
        Assert.False(audit.Attributes.Has("gateway.moderation.response.text"));
        Assert.Equal(32, audit.TraceId.Length);
    }

    private static void AssertRole(OtlpLog audit, string role, string verdict, string categories, string action, string cache)
    {
        var prefix = $"gateway.moderation.{role}.";
        Assert.Equal(verdict, audit.Attributes.Text(prefix + "verdict"));
        Assert.Equal(categories, audit.Attributes.Text(prefix + "categories"));
        Assert.Equal(action, audit.Attributes.Text(prefix + "action"));
        Assert.Equal(cache, audit.Attributes.Text(prefix + "cache"));
    }

    /// <summary>Neither marker is in any export's raw bytes: span names and attributes, metric tags, log bodies and
    /// attributes alike.</summary>
    private static void AssertNoText(OtlpReceiver otlp)
    {
        var exports = otlp.Exports.ToArray();
        Assert.Contains(exports, e => e.Path == "/v1/traces");
        Assert.Contains(exports, e => e.Path == "/v1/metrics");
        Assert.Contains(exports, e => e.Path == "/v1/logs");
        foreach (var export in exports)
        {
            Assert.Equal("application/x-protobuf", export.ContentType);
            Assert.False(Contains(export.Body, PromptMarker), $"the prompt text is in an export to {export.Path}");
            Assert.False(Contains(export.Body, ResponseMarker), $"the response text is in an export to {export.Path}");
            Assert.False(Contains(export.Body, UnsafeAnswer), $"the unsafe answer's text is in an export to {export.Path}");
        }
    }

    private static bool Contains(byte[] body, string text) => body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    private async Task<Run> RunAsync(Func<GatewayServer, Task> requests, bool auditContent = false)
    {
        var file = Path.Combine(_directory, "policies.yaml");
        await File.WriteAllTextAsync(file, PolicyFile);
        var otlp = await OtlpReceiver.StartAsync();
        var guard = await ScriptedGuardServer.StartAsync();
        guard.Answer(UnsafePrompt, "unsafe\nS1", role: "User")
            .Answer(UnsafeAnswer, "unsafe\nS10", role: "Agent")
            .Fail(GuardFails, 500);
        var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = AnswerAsync;
        var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
        foreach (var (key, value) in ScriptedGuardServer.GuardWith(guard))
        {
            config[key] = value;
        }
        config["Guard:Remote:MaxAttempts"] = "1";
        config["Policies:Files:0"] = file;
        config["Policies:Watch"] = "false";
        config["Auth:Mode"] = "ApiKeys";
        config["Auth:Keys:0:Tenant"] = Tenant;
        config["Auth:Keys:0:Sha256"] = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ApiKey)));
        config["Telemetry:OtlpEndpoint"] = otlp.BaseAddress.ToString();
        config["Telemetry:OtlpProtocol"] = "HttpProtobuf";
        config["Telemetry:ServiceName"] = "audit-telemetry-test-gateway";
        if (auditContent)
        {
            config["Telemetry:AuditContent"] = "true";
        }
        var run = new Run(otlp, guard, upstream);
        try
        {
            // Stopping the gateway flushes its batch processors and its metric reader to the receiver.
            await using var gateway = await GatewayServer.StartAsync(config);
            await requests(gateway);
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
        return run;
    }

    /// <summary>An OpenAI-compatible answer: <see cref="UnaryWords"/> unary, <see cref="StreamWords"/> streamed (the
    /// words after the first once the client has that one).</summary>
    private async Task AnswerAsync(HttpContext context, string body)
    {
        using var request = JsonDocument.Parse(body);
        var model = request.RootElement.GetProperty("model").GetString();
        var usage = new { prompt_tokens = 7, completion_tokens = UnaryWords.Length, total_tokens = 7 + UnaryWords.Length };
        if (!request.RootElement.TryGetProperty("stream", out var stream) || !stream.GetBoolean())
        {
            await ScriptedUpstream.WriteJsonAsync(context, 200, new
            {
                id = "up-1",
                @object = "chat.completion",
                created = 1700000000,
                model,
                choices = new[] { new { index = 0, message = new { role = "assistant", content = string.Concat(UnaryWords) }, finish_reason = "stop" } },
                usage,
            });
            return;
        }
        context.Response.ContentType = "text/event-stream";
        foreach (var word in StreamWords)
        {
            if (word != StreamWords[0])
            {
                await _firstWordReceived.Task.WaitAsync(context.RequestAborted);
            }
            await ScriptedUpstream.WriteEventAsync(context, JsonSerializer.Serialize(new
            {
                id = "up-1",
                @object = "chat.completion.chunk",
                created = 1700000000,
                model,
                choices = new[] { new { index = 0, delta = new { content = word }, finish_reason = (string?)null } },
            }));
        }
        await ScriptedUpstream.WriteEventAsync(context, "[DONE]");
    }

    private sealed class Run(OtlpReceiver otlp, ScriptedGuardServer guard, ScriptedUpstream upstream) : IAsyncDisposable
    {
        public OtlpReceiver Otlp { get; } = otlp;

        public ScriptedGuardServer Guard { get; } = guard;

        public ScriptedUpstream Upstream { get; } = upstream;

        public async ValueTask DisposeAsync()
        {
            await Upstream.DisposeAsync();
            await Guard.DisposeAsync();
            await Otlp.DisposeAsync();
        }
    }
}
