using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.Formatting;

namespace Gateway.Demo;

/// <summary>The built-in demo backend: an in-process OpenAI-compatible server (<c>/v1/chat/completions</c>,
/// <c>/v1/completions</c>, streamed or not) so the gateway runs end to end with no backend at all.</summary>
/// <remarks>It is not a language model: it answers with a fixed text, one word per token, honouring
/// <c>max_tokens</c>, so the whole translation and streaming path is exercised without sockets.</remarks>
internal sealed class DemoUpstreamHandler(TimeProvider time) : HttpMessageHandler
{
    /// <summary>The text every demo completion is cut from.</summary>
    public const string ReplyText =
        "Hello from the gateway's built-in demo upstream. It is not a language model: configure an upstream " +
        "in Gateway:Upstreams and ReverseProxy:Clusters to get real completions.";

    private static readonly string[] Words = SplitWords(ReplyText);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var path = request.RequestUri?.AbsolutePath ?? "";
        var chat = path.EndsWith("/v1/chat/completions", StringComparison.Ordinal);
        if (request.Method != HttpMethod.Post || !(chat || path.EndsWith("/v1/completions", StringComparison.Ordinal)))
        {
            return Error(HttpStatusCode.NotFound, $"demo upstream has no route {request.Method} {path}");
        }
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return Error(HttpStatusCode.BadRequest, "demo upstream: body is not JSON");
        }
        using (doc)
        {
            var root = doc.RootElement;
            var model = root.TryGetProperty("model", out var m) ? m.GetString() ?? "demo" : "demo";
            var maxTokens = root.TryGetProperty("max_tokens", out var mt) && mt.TryGetInt32(out var n) ? Math.Max(1, n) : 256;
            var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            var includeUsage = root.TryGetProperty("stream_options", out var so) && so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;
            var promptTokens = CountPromptWords(root);
            var tokens = Words.Take(maxTokens).ToArray();
            var finish = tokens.Length < Words.Length ? "length" : "stop";
            var id = "demo-" + Guid.NewGuid().ToString("N")[..16];
            var created = time.GetUtcNow().ToUnixTimeSeconds();
            var usage = new Upstreams.Usage(promptTokens, tokens.Length, promptTokens + tokens.Length);
            if (!stream)
            {
                var json = JsonText.Bytes(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("id", id);
                    w.WriteString("object", chat ? "chat.completion" : "text_completion");
                    w.WriteNumber("created", created);
                    w.WriteString("model", model);
                    w.WriteStartArray("choices");
                    w.WriteStartObject();
                    w.WriteNumber("index", 0);
                    if (chat)
                    {
                        w.WriteStartObject("message");
                        w.WriteString("role", "assistant");
                        w.WriteString("content", string.Concat(tokens));
                        w.WriteEndObject();
                    }
                    else
                    {
                        w.WriteString("text", string.Concat(tokens));
                    }
                    w.WriteNull("logprobs");
                    w.WriteString("finish_reason", finish);
                    w.WriteEndObject();
                    w.WriteEndArray();
                    JsonText.WriteUsage(w, usage);
                    w.WriteEndObject();
                });
                return Json(HttpStatusCode.OK, json);
            }
            var sse = new StringBuilder();
            for (var i = 0; i <= tokens.Length; i++)
            {
                var last = i == tokens.Length;
                sse.Append("data: ").Append(JsonText.String(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("id", id);
                    w.WriteString("object", chat ? "chat.completion.chunk" : "text_completion");
                    w.WriteNumber("created", created);
                    w.WriteString("model", model);
                    w.WriteStartArray("choices");
                    w.WriteStartObject();
                    w.WriteNumber("index", 0);
                    if (chat)
                    {
                        w.WriteStartObject("delta");
                        if (i == 0)
                        {
                            w.WriteString("role", "assistant");
                        }
                        if (!last)
                        {
                            w.WriteString("content", tokens[i]);
                        }
                        w.WriteEndObject();
                    }
                    else
                    {
                        w.WriteString("text", last ? "" : tokens[i]);
                    }
                    w.WriteNull("logprobs");
                    if (last) { w.WriteString("finish_reason", finish); } else { w.WriteNull("finish_reason"); }
                    w.WriteEndObject();
                    w.WriteEndArray();
                    w.WriteEndObject();
                })).Append("\n\n");
            }
            if (includeUsage)
            {
                sse.Append("data: ").Append(JsonText.String(w =>
                {
                    w.WriteStartObject();
                    w.WriteString("id", id);
                    w.WriteString("object", chat ? "chat.completion.chunk" : "text_completion");
                    w.WriteNumber("created", created);
                    w.WriteString("model", model);
                    w.WriteStartArray("choices");
                    w.WriteEndArray();
                    JsonText.WriteUsage(w, usage);
                    w.WriteEndObject();
                })).Append("\n\n");
            }
            sse.Append("data: [DONE]\n\n");
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(sse.ToString()));
            content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
            return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
        }
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
        return parts.Select((w, i) => i == 0 ? w : " " + w).ToArray();
    }

    private static HttpResponseMessage Json(HttpStatusCode status, byte[] json)
    {
        var content = new ByteArrayContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return new HttpResponseMessage(status) { Content = content };
    }

    private static HttpResponseMessage Error(HttpStatusCode status, string message) =>
        Json(status, JsonText.Bytes(w =>
        {
            w.WriteStartObject();
            w.WriteStartObject("error");
            w.WriteString("message", message);
            w.WriteString("type", "invalid_request_error");
            w.WriteEndObject();
            w.WriteEndObject();
        }));
}
