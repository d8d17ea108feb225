using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.Formatting;

namespace Gateway.InProcess;

/// <summary>An OpenAI-compatible server that runs inside the gateway (<c>/v1/chat/completions</c>, <c>/v1/completions</c>,
/// streamed or not), answering with what its <see cref="IInProcessBackend"/> generates. It is handed to YARP's forwarder
/// as the upstream's <see cref="HttpMessageInvoker"/>, so in-process backends go through exactly the same translation,
/// streaming and moderation path as remote ones.</summary>
internal sealed class InProcessUpstreamHandler(IInProcessBackend backend, TimeProvider time) : HttpMessageHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var path = request.RequestUri?.AbsolutePath ?? "";
        var chat = path.EndsWith("/v1/chat/completions", StringComparison.Ordinal);
        if (request.Method != HttpMethod.Post || !(chat || path.EndsWith("/v1/completions", StringComparison.Ordinal)))
        {
            return Error(HttpStatusCode.NotFound, $"no route {request.Method} {path}");
        }
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            return Error(HttpStatusCode.BadRequest, "body is not JSON");
        }
        using (doc)
        {
            var root = doc.RootElement;
            InProcessGeneration generation;
            try
            {
                generation = await backend.GenerateAsync(root, chat, cancellationToken);
            }
            catch (InProcessUpstreamException ex)
            {
                return Error(ex.Status, ex.Message);
            }
            var model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "unknown";
            var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            var includeUsage = root.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object
                && so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;
            var id = "inproc-" + Guid.NewGuid().ToString("N")[..16];
            var created = time.GetUtcNow().ToUnixTimeSeconds();
            return stream
                ? Stream(chat, id, created, model, generation, includeUsage)
                : Json(HttpStatusCode.OK, OpenAiJson.Completion(chat, id, created, model, string.Concat(generation.Pieces), [],
                    generation.FinishReason, generation.Usage));
        }
    }

    private static HttpResponseMessage Stream(bool chat, string id, long created, string model, InProcessGeneration g, bool includeUsage)
    {
        var sse = new StringBuilder();
        for (var i = 0; i <= g.Pieces.Count; i++)
        {
            var last = i == g.Pieces.Count;
            var chunk = OpenAiJson.Chunk(chat, id, created, model, role: i == 0, last ? "" : g.Pieces[i], [], last ? g.FinishReason : null);
            sse.Append("data: ").Append(chunk).Append("\n\n");
        }
        if (includeUsage && g.Usage is { } usage)
        {
            sse.Append("data: ").Append(OpenAiJson.UsageChunk(chat, id, created, model, usage)).Append("\n\n");
        }
        sse.Append("data: [DONE]\n\n");
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(sse.ToString()));
        content.Headers.ContentType = new MediaTypeHeaderValue("text/event-stream");
        return new HttpResponseMessage(HttpStatusCode.OK) { Content = content };
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
            w.WriteString("type", (int)status < 500 ? "invalid_request_error" : "api_error");
            w.WriteEndObject();
            w.WriteEndObject();
        }));
}
