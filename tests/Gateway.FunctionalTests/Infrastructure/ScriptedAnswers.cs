using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>A tool call a scripted answer carries: the function's name and its arguments as a JSON object's text.</summary>
public sealed record ScriptedToolCall(string Name, string ArgumentsJson);

/// <summary>What a scripted upstream generates: its text in the pieces a stream sends (one event each), and optionally
/// one tool call.</summary>
public sealed record ScriptedAnswer(IReadOnlyList<string> Pieces, ScriptedToolCall? ToolCall = null)
{
    /// <summary>An answer of one piece.</summary>
    public ScriptedAnswer(string text, ScriptedToolCall? toolCall = null)
        : this([text], toolCall)
    {
    }

    /// <summary>The whole generated text.</summary>
    public string Text => string.Concat(Pieces);

    /// <summary>Completion tokens reported in usage: one per piece (and one for a tool call).</summary>
    public int CompletionTokens => Pieces.Count + (ToolCall is null ? 0 : 1);
}

/// <summary>Upstream handlers (<see cref="ScriptedUpstream.Handler"/>) that answer with a chosen
/// <see cref="ScriptedAnswer"/> in whichever protocol the path asks for: Workers AI (<c>/ai/run/</c>: the REST envelope,
/// or <c>{"response"}</c> events then <c>[DONE]</c>; tool calls with an <c>arguments</c> object), OpenAI chat
/// (<c>message.content</c> and <c>tool_calls</c> with <c>function.arguments</c> as a string, or chunks) and OpenAI
/// completions (<c>text</c>).</summary>
public static class ScriptedAnswers
{
    /// <summary>Prompt tokens every answer reports.</summary>
    public const int PromptTokens = 7;

    /// <summary>Answers every request with <paramref name="answer"/>.</summary>
    public static Func<HttpContext, string, Task> Always(ScriptedAnswer answer) => Choose(_ => answer);

    /// <summary>Answers each request with what <paramref name="choose"/> picks from its body (the request the gateway
    /// forwarded). <paramref name="beforePiece"/>, when given, is awaited before a stream writes piece <c>i</c> (not
    /// before the first), so a test can hold the rest of a stream back until it saw the start.</summary>
    public static Func<HttpContext, string, Task> Choose(Func<string, ScriptedAnswer> choose, Func<int, CancellationToken, Task>? beforePiece = null) =>
        async (context, body) =>
        {
            var answer = choose(body);
            var path = context.Request.Path.Value ?? "";
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            if (path.Contains("/ai/run/", StringComparison.Ordinal))
            {
                await WorkersAiAsync(context, answer, stream, beforePiece);
                return;
            }
            var chat = path.EndsWith("/v1/chat/completions", StringComparison.Ordinal);
            if (!chat && !path.EndsWith("/v1/completions", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 404;
                return;
            }
            var includeUsage = root.TryGetProperty("stream_options", out var so) && so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;
            var model = root.TryGetProperty("model", out var m) ? m.GetString() ?? "unknown" : "unknown";
            await OpenAiAsync(context, answer, chat, stream, includeUsage, model, beforePiece);
        };

    private static JsonObject Usage(ScriptedAnswer answer) => new()
    {
        ["prompt_tokens"] = PromptTokens,
        ["completion_tokens"] = answer.CompletionTokens,
        ["total_tokens"] = PromptTokens + answer.CompletionTokens,
    };

    private static JsonArray WorkersAiToolCalls(ScriptedToolCall call) =>
        [new JsonObject { ["name"] = call.Name, ["arguments"] = JsonNode.Parse(call.ArgumentsJson) }];

    private static async Task WorkersAiAsync(HttpContext context, ScriptedAnswer answer, bool stream, Func<int, CancellationToken, Task>? beforePiece)
    {
        if (!stream)
        {
            var result = new JsonObject { ["response"] = answer.Text };
            if (answer.ToolCall is { } call)
            {
                result["tool_calls"] = WorkersAiToolCalls(call);
            }
            result["usage"] = Usage(answer);
            await WriteAsync(context, new JsonObject
            {
                ["result"] = result,
                ["success"] = true,
                ["errors"] = new JsonArray(),
                ["messages"] = new JsonArray(),
            });
            return;
        }
        context.Response.ContentType = "text/event-stream";
        for (var i = 0; i < answer.Pieces.Count; i++)
        {
            if (i > 0 && beforePiece is not null)
            {
                await beforePiece(i, context.RequestAborted);
            }
            await ScriptedUpstream.WriteEventAsync(context, new JsonObject { ["response"] = answer.Pieces[i] }.ToJsonString());
        }
        if (answer.ToolCall is { } toolCall)
        {
            await ScriptedUpstream.WriteEventAsync(context, new JsonObject { ["response"] = "", ["tool_calls"] = WorkersAiToolCalls(toolCall) }.ToJsonString());
        }
        await ScriptedUpstream.WriteEventAsync(context, new JsonObject { ["response"] = "", ["usage"] = Usage(answer) }.ToJsonString());
        await ScriptedUpstream.WriteEventAsync(context, "[DONE]");
    }

    private static async Task OpenAiAsync(
        HttpContext context, ScriptedAnswer answer, bool chat, bool stream, bool includeUsage, string model, Func<int, CancellationToken, Task>? beforePiece)
    {
        var finish = answer.ToolCall is null ? "stop" : "tool_calls";
        if (!stream)
        {
            JsonObject choice;
            if (chat)
            {
                var message = new JsonObject
                {
                    ["role"] = "assistant",
                    ["content"] = answer.Text.Length == 0 && answer.ToolCall is not null ? null : answer.Text,
                };
                if (answer.ToolCall is { } call)
                {
                    message["tool_calls"] = new JsonArray(OpenAiToolCall(call, index: null));
                }
                choice = new JsonObject { ["index"] = 0, ["message"] = message, ["logprobs"] = null, ["finish_reason"] = finish };
            }
            else
            {
                choice = new JsonObject { ["index"] = 0, ["text"] = answer.Text, ["logprobs"] = null, ["finish_reason"] = finish };
            }
            await WriteAsync(context, new JsonObject
            {
                ["id"] = "up-1",
                ["object"] = chat ? "chat.completion" : "text_completion",
                ["created"] = 1700000000,
                ["model"] = model,
                ["choices"] = new JsonArray(choice),
                ["usage"] = Usage(answer),
            });
            return;
        }
        context.Response.ContentType = "text/event-stream";
        JsonObject Chunk(JsonObject choice) => new()
        {
            ["id"] = "up-1",
            ["object"] = chat ? "chat.completion.chunk" : "text_completion",
            ["created"] = 1700000000,
            ["model"] = model,
            ["choices"] = new JsonArray(choice),
        };
        for (var i = 0; i < answer.Pieces.Count; i++)
        {
            if (i > 0 && beforePiece is not null)
            {
                await beforePiece(i, context.RequestAborted);
            }
            var choice = chat
                ? new JsonObject
                {
                    ["index"] = 0,
                    ["delta"] = i == 0 ? new JsonObject { ["role"] = "assistant", ["content"] = answer.Pieces[i] } : new JsonObject { ["content"] = answer.Pieces[i] },
                    ["logprobs"] = null,
                    ["finish_reason"] = null,
                }
                : new JsonObject { ["index"] = 0, ["text"] = answer.Pieces[i], ["logprobs"] = null, ["finish_reason"] = null };
            await ScriptedUpstream.WriteEventAsync(context, Chunk(choice).ToJsonString());
        }
        if (chat && answer.ToolCall is { } toolCall)
        {
            var delta = new JsonObject { ["tool_calls"] = new JsonArray(OpenAiToolCall(toolCall, index: 0)) };
            await ScriptedUpstream.WriteEventAsync(context, Chunk(new JsonObject { ["index"] = 0, ["delta"] = delta, ["logprobs"] = null, ["finish_reason"] = null }).ToJsonString());
        }
        var last = chat
            ? new JsonObject { ["index"] = 0, ["delta"] = new JsonObject(), ["logprobs"] = null, ["finish_reason"] = finish }
            : new JsonObject { ["index"] = 0, ["text"] = "", ["logprobs"] = null, ["finish_reason"] = finish };
        await ScriptedUpstream.WriteEventAsync(context, Chunk(last).ToJsonString());
        if (includeUsage)
        {
            var usage = Chunk(new JsonObject());
            usage["choices"] = new JsonArray();
            usage["usage"] = Usage(answer);
            await ScriptedUpstream.WriteEventAsync(context, usage.ToJsonString());
        }
        await ScriptedUpstream.WriteEventAsync(context, "[DONE]");
    }

    private static JsonObject OpenAiToolCall(ScriptedToolCall call, int? index)
    {
        var entry = new JsonObject();
        if (index is { } i)
        {
            entry["index"] = i;
        }
        entry["id"] = "call_scripted_1";
        entry["type"] = "function";
        entry["function"] = new JsonObject { ["name"] = call.Name, ["arguments"] = call.ArgumentsJson };
        return entry;
    }

    private static async Task WriteAsync(HttpContext context, JsonObject body)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString());
    }
}
