using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.Demo;
using Gateway.Upstreams;
using Guard.Conversations;
using Guard.Engines;

namespace Gateway.Guarding;

/// <summary>Serves Llama Guard as a text-generation model from the configured guard engine: chat requests (and
/// Workers AI <c>prompt</c>/<c>messages</c>) are classified as conversations; raw completions (<c>raw: true</c>) run the
/// prompt as given. The answer is the model's own text, <c>safe</c> or <c>unsafe\nO3</c>.</summary>
internal sealed class GuardUpstreamHandler(GuardEngineProvider provider, TimeProvider time) : InProcessOpenAiHandler(time)
{
    protected override async Task<InProcessGeneration> GenerateAsync(JsonElement request, bool chat, CancellationToken cancellationToken)
    {
        var engine = provider.Engine
            ?? throw new InProcessUpstreamException(HttpStatusCode.ServiceUnavailable, "no guard engine is configured; set Guard:Engine");
        var maxTokens = request.TryGetProperty("max_tokens", out var mt) && mt.TryGetInt32(out var n) ? Math.Clamp(n, 1, 256) : 24;
        try
        {
            if (chat)
            {
                var conversation = GuardConversation.FromMessages(ReadMessages(request));
                var verdict = await engine.ClassifyAsync(conversation, cancellationToken);
                return new InProcessGeneration([verdict.RawOutput], "stop", null);
            }
            var prompt = request.TryGetProperty("prompt", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : "";
            var completion = await engine.CompleteAsync(prompt, maxTokens, cancellationToken);
            var usage = completion is { PromptTokens: { } pt, CompletionTokens: { } ct } ? new Usage(pt, ct, pt + ct) : null;
            return new InProcessGeneration([completion.Text], "stop", usage);
        }
        catch (ArgumentException ex)
        {
            throw new InProcessUpstreamException(HttpStatusCode.BadRequest, ex.Message);
        }
        catch (GuardEngineException ex)
        {
            throw new InProcessUpstreamException(ex.Transient ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.BadGateway, ex.Message);
        }
    }

    private static List<GuardChatMessage> ReadMessages(JsonElement request)
    {
        var list = new List<GuardChatMessage>();
        if (!request.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            return list;
        }
        foreach (var m in messages.EnumerateArray())
        {
            var role = m.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "user";
            var calls = new List<GuardToolCall>();
            if (m.TryGetProperty("tool_calls", out var tc) && tc.ValueKind == JsonValueKind.Array)
            {
                foreach (var call in tc.EnumerateArray())
                {
                    var fn = call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : call;
                    var name = fn.TryGetProperty("name", out var nm) && nm.ValueKind == JsonValueKind.String ? nm.GetString()! : "";
                    var args = fn.TryGetProperty("arguments", out var a) ? (a.ValueKind == JsonValueKind.String ? a.GetString() : a.GetRawText()) : null;
                    calls.Add(new GuardToolCall(name, args));
                }
            }
            list.Add(new GuardChatMessage(role, m.TryGetProperty("content", out var c) ? Text(c) : null) { ToolCalls = calls.Count > 0 ? calls : null });
        }
        return list;
    }

    private static string? Text(JsonElement content)
    {
        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString();
        }
        if (content.ValueKind != JsonValueKind.Array)
        {
            return null;
        }
        var text = new StringBuilder();
        foreach (var part in content.EnumerateArray())
        {
            if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String)
            {
                text.Append(text.Length > 0 ? "\n" : "").Append(t.GetString());
            }
        }
        return text.ToString();
    }
}
