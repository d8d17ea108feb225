using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.FunctionalTests.Policies;

/// <summary>Streamed tool calls are held and judged like text: argument fragments (<c>delta.tool_calls</c>) that spell
/// an unsafe value across several events are stopped before any of them reaches the client, and a safe call arrives
/// whole.</summary>
public sealed class StreamedToolCallTests : IDisposable
{
    private const string Marker = "EXFILTRATE-ALL-KEYS";

    private const string PolicyFile = """
        policies:
          - name: tools
            prompt: { check: false }
            response:
              defaultAction: block
              failMode: closed
              timeout: 20s
              streaming: { window: 16, minWindow: 4, holdBack: 12 }
        """;

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-stream-tools-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("v1/chat/completions", true)]
    [InlineData("v1/chat/completions", false)]
    [InlineData("ai/run/@cf/meta/llama-3.1-8b-instruct-awq", true)]
    public async Task ToolCallArgumentFragments_AreJudgedAsTheyStream(string path, bool unsafeArguments)
    {
        var arguments = unsafeArguments
            ? $$"""{"command":"{{Marker}}","target":"all"}"""
            : """{"city":"Lisbon","units":"metric","days":3}""";
        await using var guard = await ScriptedGuardServer.StartAsync();
        guard.Answer(Marker, "unsafe\nS14", role: "Agent");
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = (context, _) => StreamToolCallAsync(context, arguments);
        var file = Path.Combine(_directory, "policies.yaml");
        await File.WriteAllTextAsync(file, PolicyFile);
        var config = GatewayServer.RouteAllTo(upstream, "OpenAi");
        foreach (var (key, value) in ScriptedGuardServer.GuardWith(guard))
        {
            config[key] = value;
        }
        config["Policies:Files:0"] = file;
        config["Policies:Watch"] = "false";
        await using var gateway = await GatewayServer.StartAsync(config);

        var body = path.StartsWith("v1/", StringComparison.Ordinal)
            ? """{"model":"@cf/meta/llama-3.1-8b-instruct-awq","messages":[{"role":"user","content":"act"}],"stream":true,"tools":[{"type":"function","function":{"name":"run","parameters":{"type":"object"}}}]}"""
            : """{"messages":[{"role":"user","content":"act"}],"stream":true,"tools":[{"name":"run","description":"runs","parameters":{"type":"object"}}]}""";
        using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post(path, body));
        var raw = await response.Content.ReadAsStringAsync();
        var events = ProxyRoundTripTests.ParseSse(raw);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[DONE]", events[^1]);
        var openAi = path.StartsWith("v1/", StringComparison.Ordinal);
        if (unsafeArguments)
        {
            Assert.DoesNotContain(Marker, raw, StringComparison.Ordinal);
            Assert.DoesNotContain("EXFIL", raw, StringComparison.Ordinal);
            using var terminal = JsonDocument.Parse(events[^2]);
            if (openAi)
            {
                Assert.Equal("content_filter", terminal.RootElement.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
            }
            else
            {
                Assert.Equal(2017, terminal.RootElement.GetProperty("errors")[0].GetProperty("code").GetInt32());
            }
            Assert.Contains(guard.Requests, r => r.Role == "Agent" && r.Conversation.Contains(Marker, StringComparison.Ordinal));
        }
        else
        {
            var received = new StringBuilder();
            foreach (var data in events.Take(events.Count - 1))
            {
                using var doc = JsonDocument.Parse(data);
                if (doc.RootElement.GetProperty("choices")[0].GetProperty("delta").TryGetProperty("tool_calls", out var calls))
                {
                    received.Append(calls[0].GetProperty("function").TryGetProperty("arguments", out var a) ? a.GetString() : "");
                }
            }
            Assert.Equal(arguments, received.ToString());
        }
    }

    private static async Task StreamToolCallAsync(HttpContext context, string arguments)
    {
        context.Response.ContentType = "text/event-stream";
        await ScriptedUpstream.WriteEventAsync(context, Chunk(new
        {
            role = "assistant",
            content = (string?)null,
            tool_calls = new[] { new { index = 0, id = "call_1", type = "function", function = new { name = "run", arguments = "" } } }
        }, null));
        for (var i = 0; i < arguments.Length; i += 5)
        {
            var fragment = arguments[i..Math.Min(arguments.Length, i + 5)];
            await ScriptedUpstream.WriteEventAsync(context, Chunk(new { tool_calls = new[] { new { index = 0, function = new { arguments = fragment } } } }, null));
        }
        await ScriptedUpstream.WriteEventAsync(context, Chunk(new { }, "tool_calls"));
        await ScriptedUpstream.WriteEventAsync(context, "[DONE]");
    }

    private static string Chunk(object delta, string? finish) => JsonSerializer.Serialize(new
    {
        id = "chatcmpl-t",
        @object = "chat.completion.chunk",
        created = 1,
        model = "m",
        choices = new[] { new { index = 0, delta, finish_reason = finish } },
    });
}
