using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.FunctionalTests;

/// <summary>Both API surfaces through the gateway to both upstream kinds, over real sockets.</summary>
public sealed class ProxyRoundTripTests
{
    private const string Model = "@cf/meta/llama-2-7b-chat-fp16";

    [Theory]
    [InlineData("WorkersAi", false)]
    [InlineData("WorkersAi", true)]
    [InlineData("OpenAi", false)]
    [InlineData("OpenAi", true)]
    public async Task WorkersAiRest_ReturnsEnvelope_ForBothUpstreamKinds(string kind, bool messages)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));
        var body = messages ? """{"messages":[{"role":"user","content":"hello"}]}""" : """{"prompt":"hello"}""";
        using var request = Post($"client/v4/accounts/client-account/ai/run/{Model}", body);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "client-token");
        using var response = await gateway.Client.SendAsync(request);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(json.GetProperty("success").GetBoolean());
        Assert.Equal("Scripted upstream says hello.", json.GetProperty("result").GetProperty("response").GetString());
        Assert.Equal(12, json.GetProperty("result").GetProperty("usage").GetProperty("total_tokens").GetInt32());
        var received = upstream.LastRequest;
        Assert.Equal("Bearer upstream-secret-token", received.Headers["Authorization"]);
        Assert.DoesNotContain("client-token", string.Join(" ", received.Headers.Values));
        if (kind == "WorkersAi")
        {
            Assert.Equal($"/client/v4/accounts/gateway-account/ai/run/{Model}", received.Path);
            Assert.Equal(body, received.Body);
        }
        else
        {
            Assert.Equal("/v1/chat/completions", received.Path);
            Assert.Equal(Model, received.Json.GetProperty("model").GetString());
            Assert.Equal("hello", received.Json.GetProperty("messages")[0].GetProperty("content").GetString());
            Assert.Equal(256, received.Json.GetProperty("max_tokens").GetInt32());
        }
    }

    [Theory]
    [InlineData("WorkersAi")]
    [InlineData("OpenAi")]
    public async Task WorkersAiShort_Streams_ResponseEventsThenDone(string kind)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));
        using var response = await gateway.Client.SendAsync(Post($"ai/run/{Model}", """{"prompt":"hello","stream":true}"""));
        var events = ParseSse(await response.Content.ReadAsStringAsync());

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("[DONE]", events[^1]);
        var text = string.Concat(events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement.GetProperty("response").GetString()));
        Assert.Equal("Scripted upstream says hello.", text);
        Assert.Contains(events.SkipLast(1), e => JsonDocument.Parse(e).RootElement.TryGetProperty("usage", out _));
    }

    [Theory]
    [InlineData("WorkersAi", "v1/chat/completions")]
    [InlineData("OpenAi", "v1/chat/completions")]
    [InlineData("WorkersAi", "v1/completions")]
    [InlineData("OpenAi", "v1/completions")]
    public async Task OpenAi_NonStreaming_ReturnsCompletionObject(string kind, string path)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));
        var chat = path.EndsWith("chat/completions", StringComparison.Ordinal);
        var body = chat
            ? $$"""{"model":"{{Model}}","messages":[{"role":"user","content":"hello"}],"max_tokens":20}"""
            : $$"""{"model":"{{Model}}","prompt":"Once upon","max_tokens":20}""";
        using var response = await gateway.Client.SendAsync(Post(path, body));
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(chat ? "chat.completion" : "text_completion", json.GetProperty("object").GetString());
        var choice = json.GetProperty("choices")[0];
        Assert.Equal("Scripted upstream says hello.", chat ? choice.GetProperty("message").GetProperty("content").GetString() : choice.GetProperty("text").GetString());
        Assert.Equal(12, json.GetProperty("usage").GetProperty("total_tokens").GetInt32());
        if (kind == "WorkersAi")
        {
            var sent = upstream.LastRequest.Json;
            Assert.Equal(20, sent.GetProperty("max_tokens").GetInt32());
            if (!chat)
            {
                Assert.Equal("Once upon", sent.GetProperty("prompt").GetString());
                Assert.True(sent.GetProperty("raw").GetBoolean());
            }
        }
        else
        {
            Assert.Equal(body, upstream.LastRequest.Body);
        }
    }

    [Theory]
    [InlineData("WorkersAi")]
    [InlineData("OpenAi")]
    public async Task OpenAiChat_Streams_ChunksWithUsageThenDone(string kind)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));
        var body = $$$"""{"model":"{{{Model}}}","messages":[{"role":"user","content":"hello"}],"stream":true,"stream_options":{"include_usage":true}}""";
        using var response = await gateway.Client.SendAsync(Post("v1/chat/completions", body));
        var events = ParseSse(await response.Content.ReadAsStringAsync());

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events.SkipLast(1).Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        var text = string.Concat(chunks.Where(c => c.GetProperty("choices").GetArrayLength() > 0)
            .Select(c => c.GetProperty("choices")[0].GetProperty("delta"))
            .Select(d => d.TryGetProperty("content", out var t) ? t.GetString() : ""));
        Assert.Equal("Scripted upstream says hello.", text);
        Assert.Contains(chunks, c => c.GetProperty("choices").GetArrayLength() > 0 && c.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind == JsonValueKind.String);
        Assert.Equal(12, chunks[^1].GetProperty("usage").GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task RawPrompt_ToOpenAiUpstream_GoesToCompletionsUntouched_AndLoraBecomesModelName()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, "OpenAi"));
        const string prompt = "<s>[INST] tell me a story [/INST]";
        var body = JsonSerializer.Serialize(new { prompt, raw = true, lora = "my-adapter", max_tokens = 12, temperature = 0.2, top_k = 5 });
        using var response = await gateway.Client.SendAsync(Post("ai/run/@cf/meta-llama/llama-2-7b-chat-hf-lora", body));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var sent = upstream.LastRequest;
        Assert.Equal("/v1/completions", sent.Path);
        Assert.Equal(prompt, sent.Json.GetProperty("prompt").GetString());
        Assert.Equal("my-adapter", sent.Json.GetProperty("model").GetString());
        Assert.Equal(12, sent.Json.GetProperty("max_tokens").GetInt32());
        Assert.Equal(0.2, sent.Json.GetProperty("temperature").GetDouble());
        Assert.Equal(5, sent.Json.GetProperty("top_k").GetInt32());
    }

    [Theory]
    [InlineData("WorkersAi", true)]
    [InlineData("OpenAi", true)]
    [InlineData("WorkersAi", false)]
    [InlineData("OpenAi", false)]
    public async Task UpstreamFailureMidStream_EndsWithErrorEvent_AndNoDone(string kind, bool reset)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        var clientSawFirstEvent = new TaskCompletionSource();
        upstream.Handler = async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            await ScriptedUpstream.WriteEventAsync(context, kind == "WorkersAi"
                ? """{"response":"partial"}"""
                : """{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"partial"},"finish_reason":null}]}""");
            await clientSawFirstEvent.Task.WaitAsync(TimeSpan.FromSeconds(20));
            if (reset)
            {
                context.Abort();
            }
            else
            {
                // A clean end of body in the middle of an event: a truncated stream.
                await context.Response.WriteAsync("data: {\"response\":\"cut");
            }
        };
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));
        using var response = await gateway.Client.SendAsync(Post($"ai/run/{Model}", """{"prompt":"hello","stream":true}"""), HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var first = await reader.ReadLineAsync();
        clientSawFirstEvent.SetResult();
        var events = ParseSse(first + "\n" + await reader.ReadToEndAsync());

        Assert.Equal("partial", JsonDocument.Parse(events[0]).RootElement.GetProperty("response").GetString());
        var last = JsonDocument.Parse(events[^1]).RootElement;
        Assert.False(last.GetProperty("success").GetBoolean());
        Assert.Equal(9001, last.GetProperty("errors")[0].GetProperty("code").GetInt32());
        Assert.DoesNotContain("[DONE]", events);
        Assert.Equal(2, events.Count);
    }

    [Fact]
    public async Task StalledUpstreamStream_IsCutAfterIdleTimeout_WithOpenAiErrorEvent()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            await ScriptedUpstream.WriteEventAsync(context, """{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}""");
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        };
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, "OpenAi"));
        using var response = await gateway.Client.SendAsync(Post("v1/chat/completions",
            $$"""{"model":"{{Model}}","messages":[{"role":"user","content":"hello"}],"stream":true}"""));
        var events = ParseSse(await response.Content.ReadAsStringAsync());

        var error = JsonDocument.Parse(events[^1]).RootElement.GetProperty("error");
        Assert.Equal("upstream_timeout", error.GetProperty("code").GetString());
        Assert.DoesNotContain("[DONE]", events);
    }

    [Fact]
    public async Task ClientDisconnect_CancelsTheUpstreamRequest()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        var upstreamCancelled = new TaskCompletionSource();
        upstream.Handler = async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            await ScriptedUpstream.WriteEventAsync(context, """{"response":"first"}""");
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                upstreamCancelled.TrySetResult();
            }
        };
        var config = GatewayServer.RouteAllTo(upstream, "WorkersAi");
        config["Gateway:Upstreams:backend:StreamIdleTimeout"] = "00:01:00";
        await using var gateway = await GatewayServer.StartAsync(config);
        using (var response = await gateway.Client.SendAsync(Post($"ai/run/{Model}", """{"prompt":"hello","stream":true}"""), HttpCompletionOption.ResponseHeadersRead))
        {
            var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[64];
            Assert.True(await stream.ReadAsync(buffer) > 0);
        }
        // Disposing the response closed the client connection; the gateway must abort its upstream call.
        var finished = await Task.WhenAny(upstreamCancelled.Task, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.Same(upstreamCancelled.Task, finished);
    }

    [Fact]
    public async Task UpstreamUnreachable_Returns502InApiFormat()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
        await upstream.DisposeAsync();
        await using var gateway = await GatewayServer.StartAsync(config);
        using var response = await gateway.Client.SendAsync(Post($"ai/run/{Model}", """{"prompt":"hello"}"""));
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(9001, json.GetProperty("errors")[0].GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task Logs_ContainNoPromptOrResponseText_ByDefault()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, "OpenAi"));
        const string secret = "zebra-quartz-prompt-marker";
        using var ok = await gateway.Client.SendAsync(Post($"ai/run/{Model}", $$"""{"prompt":"{{secret}}"}"""));
        using var bad = await gateway.Client.SendAsync(Post($"ai/run/{Model}", $$"""{"prompt":"{{secret}}","top_k":"x"}"""));

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var logs = string.Join("\n", CapturingLoggerProvider.Instance.Lines);
        Assert.DoesNotContain(secret, logs);
        Assert.DoesNotContain("Scripted upstream says", logs);
        Assert.DoesNotContain("upstream-secret-token", logs);
    }

    internal static HttpRequestMessage Post(string path, string body) =>
        new(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    internal static List<string> ParseSse(string text) =>
        text.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(block => string.Join("\n", block.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..].TrimStart())))
            .Where(d => d.Length > 0)
            .ToList();
}
