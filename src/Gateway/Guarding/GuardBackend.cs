using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.InProcess;
using Gateway.Moderation;
using Gateway.Upstreams;
using Guard.Conversations;
using Guard.Engines;

namespace Gateway.Guarding;

/// <summary>Serves Llama Guard as a text-generation model from the configured guard engine: chat requests (and
/// Workers AI <c>prompt</c>/<c>messages</c>) are classified as conversations; raw completions (<c>raw: true</c>) run the
/// prompt as given. The answer is the model's own text, <c>safe</c> or <c>unsafe\nO3</c>.</summary>
internal sealed class GuardBackend(GuardEngineProvider provider) : IInProcessBackend
{
    public async Task<InProcessGeneration> GenerateAsync(JsonElement request, bool chat, CancellationToken cancellationToken)
    {
        var engine = provider.Engine
            ?? throw new InProcessUpstreamException(HttpStatusCode.ServiceUnavailable, "no guard engine is configured; set Guard:Engine");
        // OpenAI clients may send max_completion_tokens instead, or null (the gateway validated both); Workers AI always
        // sends a max_tokens number.
        var maxTokens = TokenLimit(request, "max_completion_tokens") ?? TokenLimit(request, "max_tokens") ?? 24;
        try
        {
            if (chat)
            {
                var conversation = GuardConversation.FromMessages(ReadMessages(request));
                var verdict = await engine.ClassifyAsync(conversation, cancellationToken);
                return new InProcessGeneration([verdict.RawOutput], "stop", null);
            }
            var prompt = ReadPrompt(request);
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

    private static int? TokenLimit(JsonElement request, string name) =>
        request.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var n) ? Math.Clamp(n, 1, 256) : null;

    /// <summary>The completion prompt: a string, or the one-string array the OpenAI surface also accepts.</summary>
    private static string ReadPrompt(JsonElement request)
    {
        if (!request.TryGetProperty("prompt", out var p))
        {
            return "";
        }
        if (p.ValueKind == JsonValueKind.Array && p.GetArrayLength() == 1)
        {
            p = p[0];
        }
        return p.ValueKind == JsonValueKind.String ? p.GetString()! : "";
    }

    private static List<GuardChatMessage> ReadMessages(JsonElement request)
    {
        var list = new List<GuardChatMessage>();
        if (!request.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            return list;
        }
        var i = 0;
        foreach (var m in messages.EnumerateArray())
        {
            var role = m.TryGetProperty("role", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString()! : "user";
            IReadOnlyList<GuardToolCall>? calls;
            try
            {
                calls = ToolCallReader.Read(m, $"messages[{i}]");
            }
            catch (FormatException ex)
            {
                throw new InProcessUpstreamException(HttpStatusCode.BadRequest, ex.Message);
            }
            list.Add(new GuardChatMessage(role, m.TryGetProperty("content", out var c) ? Text(c) : null) { ToolCalls = calls });
            i++;
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
