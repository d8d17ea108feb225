using System.Text.Json;
using Gateway.InProcess;
using Gateway.Upstreams;

namespace Gateway.Demo;

/// <summary>The built-in demo backend, served in process so the gateway runs end to end with no backend at all.</summary>
/// <remarks>It is not a language model: it answers with a fixed text, one word per token, honouring
/// <c>max_tokens</c>.</remarks>
internal sealed class DemoBackend : IInProcessBackend
{
    /// <summary>The text every demo completion is cut from.</summary>
    public const string ReplyText =
        "Hello from the gateway's built-in demo upstream. It is not a language model: configure an upstream " +
        "in Gateway:Upstreams and ReverseProxy:Clusters to get real completions.";

    private static readonly string[] Words = SplitWords(ReplyText);

    public Task<InProcessGeneration> GenerateAsync(JsonElement request, bool chat, CancellationToken cancellationToken)
    {
        var maxTokens = request.TryGetProperty("max_tokens", out var mt) && mt.TryGetInt32(out var n) ? Math.Max(1, n) : 256;
        var tokens = Words.Take(maxTokens).ToArray();
        var promptTokens = CountPromptWords(request);
        return Task.FromResult(new InProcessGeneration(tokens, tokens.Length < Words.Length ? "length" : "stop",
            new Usage(promptTokens, tokens.Length, promptTokens + tokens.Length)));
    }

    private static int CountPromptWords(JsonElement root)
    {
        var count = 0;
        if (root.TryGetProperty("prompt", out var p) && p.ValueKind == JsonValueKind.String)
        {
            count += SplitWords(p.GetString()!).Length;
        }
        if (root.TryGetProperty("messages", out var ms) && ms.ValueKind == JsonValueKind.Array)
        {
            foreach (var msg in ms.EnumerateArray())
            {
                if (msg.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String)
                {
                    count += SplitWords(c.GetString()!).Length;
                }
            }
        }
        return count;
    }

    private static string[] SplitWords(string text)
    {
        var parts = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return [.. parts.Select((w, i) => i == 0 ? w : " " + w)];
    }
}
