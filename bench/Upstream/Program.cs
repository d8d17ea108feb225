using System.Text;
using System.Text.Json;

// A minimal loopback LLM upstream for bench/run.sh: answers at once, with every body and stream event prepared at
// start-up, so that the benchmark measures the gateway rather than the backend. It speaks
//   OpenAI:     POST /v1/chat/completions                           (stream or not, stream_options.include_usage)
//   Workers AI: POST /client/v4/accounts/{id}/ai/run/{**model}      (stream or not)
// and GET /healthz. Streams send --Chunks text events (default 20), each written and flushed on its own, then [DONE].
//
// Paced mode (--TokensPerSecond R, R > 0), for bench/stream-moderation.sh: a stream sends the request's max_tokens
// word pieces (--Tokens, default 500, when it sets none; see bench/Common/Streams/PacedText.cs), one event each, the
// first --FirstTokenMs after the request (default one interval) and then one every 1/R s, on a fixed schedule (a late
// event does not delay the next ones), like a model decoding at R tokens/s; then the final event and [DONE].
// Non-streamed answers stay immediate.
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var replies = new Replies(builder.Configuration.GetValue("Chunks", 20));
var tokensPerSecond = builder.Configuration.GetValue("TokensPerSecond", 0.0);
var paced = tokensPerSecond > 0
    ? new PacedReplies(tokensPerSecond, builder.Configuration.GetValue("Tokens", 500), builder.Configuration.GetValue<double?>("FirstTokenMs"))
    : null;
var app = builder.Build();
app.Run(context => Upstream.HandleAsync(context, replies, paced));
await app.RunAsync();

/// <summary>The request dispatcher.</summary>
internal static class Upstream
{
    public static async Task HandleAsync(HttpContext context, Replies replies, PacedReplies? paced)
    {
        var request = context.Request;
        var path = request.Path.Value ?? "";
        if (HttpMethods.IsGet(request.Method) && path == "/healthz")
        {
            return;
        }
        var openAi = path == "/v1/chat/completions";
        var workersAi = path.StartsWith("/client/v4/accounts/", StringComparison.Ordinal) && path.Contains("/ai/run/", StringComparison.Ordinal);
        if (!openAi && !workersAi)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }
        bool stream, includeUsage;
        int? maxTokens;
        try
        {
            using var doc = await JsonDocument.ParseAsync(request.Body, cancellationToken: context.RequestAborted);
            var root = doc.RootElement;
            stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
            includeUsage = root.TryGetProperty("stream_options", out var so) && so.ValueKind == JsonValueKind.Object
                && so.TryGetProperty("include_usage", out var iu) && iu.ValueKind == JsonValueKind.True;
            maxTokens = root.TryGetProperty("max_tokens", out var mt) && mt.ValueKind == JsonValueKind.Number && mt.TryGetInt32(out var n) && n > 0
                ? n
                : null;
        }
        catch (JsonException)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        if (!stream)
        {
            var body = openAi ? replies.OpenAiBody : replies.WorkersAiBody;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = body.Length;
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
            return;
        }
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        if (paced is not null)
        {
            await paced.StreamAsync(context, openAi, includeUsage, maxTokens);
            return;
        }
        var events = openAi ? replies.OpenAiEvents : replies.WorkersAiEvents;
        foreach (var sse in events)
        {
            // PipeWriter.WriteAsync flushes: one event per write, as a token-by-token backend would send them.
            await context.Response.BodyWriter.WriteAsync(sse, context.RequestAborted);
        }
        if (openAi && includeUsage)
        {
            await context.Response.BodyWriter.WriteAsync(replies.OpenAiUsageEvent, context.RequestAborted);
        }
        await context.Response.BodyWriter.WriteAsync(Replies.Done, context.RequestAborted);
    }
}

/// <summary>Every answer, encoded once.</summary>
internal sealed class Replies
{
    /// <summary>The start of every OpenAI chunk.</summary>
    public const string OpenAiChunkHead = """{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-model","choices":""";

    private static readonly string[] Words = [" The", " gateway", " relays", " each", " token", " it", " reads", " from", " the", " upstream"];

    public Replies(int chunks)
    {
        var tokens = Enumerable.Range(0, Math.Max(1, chunks)).Select(i => i == 0 ? "Token" : Words[i % Words.Length]).ToArray();
        var text = string.Concat(tokens);
        var usage = $$"""{"prompt_tokens":24,"completion_tokens":{{tokens.Length}},"total_tokens":{{24 + tokens.Length}}}""";
        const string Head = OpenAiChunkHead;

        OpenAiBody = Utf8($$"""{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-model","choices":[{"index":0,"message":{"role":"assistant","content":{{Json(text)}}},"logprobs":null,"finish_reason":"stop"}],"usage":{{usage}}}""");
        WorkersAiBody = Utf8($$"""{"result":{"response":{{Json(text)}},"usage":{{usage}}},"success":true,"errors":[],"messages":[]}""");

        var openAi = new List<byte[]>();
        for (var i = 0; i < tokens.Length; i++)
        {
            var delta = i == 0 ? $$"""{"role":"assistant","content":{{Json(tokens[i])}}}""" : $$"""{"content":{{Json(tokens[i])}}}""";
            openAi.Add(Event(Head + $$"""[{"index":0,"delta":{{delta}},"logprobs":null,"finish_reason":null}]}"""));
        }
        openAi.Add(Event(Head + """[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}"""));
        OpenAiEvents = [.. openAi];
        OpenAiUsageEvent = Event(Head + $$"""[],"usage":{{usage}}}""");

        var workersAi = tokens.Select(t => Event($$"""{"response":{{Json(t)}},"p":"abcdefgh"}""")).ToList();
        workersAi.Add(Event($$"""{"response":"","usage":{{usage}}}"""));
        WorkersAiEvents = [.. workersAi];
    }

    public static byte[] Done { get; } = Event("[DONE]");

    public byte[] OpenAiBody { get; }

    public byte[] WorkersAiBody { get; }

    public IReadOnlyList<byte[]> OpenAiEvents { get; }

    public byte[] OpenAiUsageEvent { get; }

    public IReadOnlyList<byte[]> WorkersAiEvents { get; }

    public static string Json(string value) => JsonSerializer.Serialize(value);

    private static byte[] Utf8(string value) => Encoding.UTF8.GetBytes(value);

    public static byte[] Event(string data) => Utf8("data: " + data + "\n\n");
}
