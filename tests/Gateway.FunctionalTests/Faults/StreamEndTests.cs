using System.Net;
using System.Text.Json;
using Gateway.FunctionalTests.BadInput;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.FunctionalTests.Faults;

/// <summary>A stream ends as finished only at its protocol's proper end (docs/adr/005): a clean close without it, an
/// empty body and a body that is not an event stream all end with the client's error and never with <c>[DONE]</c> or
/// an invented <c>finish_reason</c>.</summary>
public sealed class StreamEndTests
{
    [Theory]
    [MemberData(nameof(FaultClient.AllPairs), MemberType = typeof(FaultClient))]
    public async Task CleanCloseBetweenEvents_WithoutEndMarker_EndsWithErrorEvent_AndNoDone(string kind, Surface surface)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            await ScriptedUpstream.WriteEventAsync(context, Delta(kind, "Scripted"));
            await ScriptedUpstream.WriteEventAsync(context, Delta(kind, " upstream"));
            // Returning ends the body cleanly, between two events: no finish_reason, no [DONE].
        };
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));

        using var response = await gateway.Client.SendAsync(FaultClient.Request(surface, stream: true));
        var events = ProxyRoundTripTests.ParseSse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.DoesNotContain("[DONE]", events);
        var (code, message) = FaultClient.ReadError(surface, JsonDocument.Parse(events[^1]).RootElement);
        Assert.Equal(FaultClient.IsWorkersAi(surface) ? "9001" : "upstream_error", code);
        Assert.Contains("closed the stream before its end", message, StringComparison.Ordinal);
        foreach (var data in events.SkipLast(1))
        {
            var root = JsonDocument.Parse(data).RootElement;
            Assert.False(root.TryGetProperty("errors", out _) || root.TryGetProperty("error", out _), data);
            if (root.TryGetProperty("choices", out var choices))
            {
                Assert.All(choices.EnumerateArray(), c => Assert.Equal(JsonValueKind.Null, c.GetProperty("finish_reason").ValueKind));
            }
        }
    }

    [Theory]
    [MemberData(nameof(FaultClient.AllPairs), MemberType = typeof(FaultClient))]
    public async Task EmptyEventStream_Answers502_NotAFinishedStream(string kind, Surface surface)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            return Task.CompletedTask;
        };
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));

        using var response = await gateway.Client.SendAsync(FaultClient.Request(surface, stream: true));

        var message = await FaultClient.AssertErrorResponseAsync(response, surface, HttpStatusCode.BadGateway, 9002, "upstream_protocol_error");
        Assert.Contains("no stream events", message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(FaultClient.EachSurface), MemberType = typeof(FaultClient))]
    public async Task JsonBodyLabelledAsEventStream_Answers502(string kind, Surface surface)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = async (context, _) =>
        {
            // The non-streamed answer, wrongly labelled: no SSE events in it.
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync(kind == "WorkersAi"
                ? """{"result":{"response":"Scripted upstream says hello."},"success":true,"errors":[],"messages":[]}"""
                : """{"id":"up-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}""");
        };
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));

        using var response = await gateway.Client.SendAsync(FaultClient.Request(surface, stream: true));

        var message = await FaultClient.AssertErrorResponseAsync(response, surface, HttpStatusCode.BadGateway, 9002, "upstream_protocol_error");
        Assert.Contains("no stream events", message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(FaultClient.EachSurface), MemberType = typeof(FaultClient))]
    public async Task JsonAnswerToAStreamRequest_Answers502(string kind, Surface surface)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = (context, _) => kind == "WorkersAi"
            ? ScriptedUpstream.WorkersAiAsync(context, stream: false)
            : ScriptedUpstream.OpenAiAsync(context, chat: true, stream: false, includeUsage: false, "m");
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));

        using var response = await gateway.Client.SendAsync(FaultClient.Request(surface, stream: true));

        await FaultClient.AssertErrorResponseAsync(response, surface, HttpStatusCode.BadGateway, 9002, "upstream_protocol_error");
    }

    [Theory]
    [InlineData(Surface.OpenAiChat)]
    [InlineData(Surface.OpenAiCompletions)]
    [InlineData(Surface.WorkersAiShort)]
    [InlineData(Surface.WorkersAiRest)]
    public async Task OpenAiUpstream_FinishReasonWithoutDone_IsAProperEnd(Surface surface)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            await ScriptedUpstream.WriteEventAsync(context, Delta("OpenAi", "Scripted"));
            await ScriptedUpstream.WriteEventAsync(context, Delta("OpenAi", "", finishReason: "length"));
        };
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, "OpenAi"));

        using var response = await gateway.Client.SendAsync(FaultClient.Request(surface, stream: true));
        var events = ProxyRoundTripTests.ParseSse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[DONE]", events[^1]);
        Assert.DoesNotContain(events.SkipLast(1), e => e.Contains("\"error", StringComparison.Ordinal));
        if (!FaultClient.IsWorkersAi(surface))
        {
            // The upstream's own finish reason, not an invented "stop".
            Assert.Contains(events, e => e.Contains("\"finish_reason\":\"length\"", StringComparison.Ordinal));
            Assert.DoesNotContain(events, e => e.Contains("\"finish_reason\":\"stop\"", StringComparison.Ordinal));
        }
    }

    /// <summary>One text event in the upstream's protocol.</summary>
    internal static string Delta(string kind, string text, string? finishReason = null) => kind == "WorkersAi"
        ? JsonSerializer.Serialize(new { response = text })
        : JsonSerializer.Serialize(new
        {
            id = "up-1",
            @object = "chat.completion.chunk",
            created = 1,
            model = "m",
            choices = new[] { new { index = 0, delta = new { content = text }, text, logprobs = (object?)null, finish_reason = finishReason } },
        });
}
