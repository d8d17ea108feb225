using System.Collections.Concurrent;
using System.Diagnostics;
using Bench.Common.Streams;

/// <summary>Paced streams: <see cref="PacedText"/> pieces at a fixed token rate, in the OpenAI or Workers AI format.
/// The events of each answer length are encoded once.</summary>
internal sealed class PacedReplies(double tokensPerSecond, int defaultTokens, double? firstTokenMs)
{
    private readonly ConcurrentDictionary<int, Encoded> _answers = new();
    private readonly TimeSpan _interval = TimeSpan.FromSeconds(1 / tokensPerSecond);
    private readonly TimeSpan _firstToken = firstTokenMs is { } ms ? TimeSpan.FromMilliseconds(ms) : TimeSpan.FromSeconds(1 / tokensPerSecond);

    /// <summary>Streams <paramref name="maxTokens"/> pieces (or the default count) on the schedule.</summary>
    public async Task StreamAsync(HttpContext context, bool openAi, bool includeUsage, int? maxTokens)
    {
        var start = Stopwatch.GetTimestamp();
        var answer = _answers.GetOrAdd(maxTokens ?? defaultTokens, static n => new Encoded(PacedText.Tokens(n)));
        var aborted = context.RequestAborted;
        // Headers at once, as a model server sends them before the first token.
        await context.Response.StartAsync(aborted);
        var events = openAi ? answer.OpenAi : answer.WorkersAi;
        for (var i = 0; i < answer.Count; i++)
        {
            // Event i is due at first-token + i intervals after the request, whatever the previous writes took.
            var wait = _firstToken + (i * _interval) - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, aborted);
            }
            await context.Response.BodyWriter.WriteAsync(events[i], aborted);
        }
        // The final event (finish reason, or the Workers AI usage event) comes with the last token.
        await context.Response.BodyWriter.WriteAsync(events[answer.Count], aborted);
        if (openAi && includeUsage)
        {
            await context.Response.BodyWriter.WriteAsync(answer.OpenAiUsage, aborted);
        }
        await context.Response.BodyWriter.WriteAsync(Replies.Done, aborted);
    }

    private sealed class Encoded
    {
        public Encoded(string[] tokens)
        {
            Count = tokens.Length;
            var usage = $$"""{"prompt_tokens":24,"completion_tokens":{{tokens.Length}},"total_tokens":{{24 + tokens.Length}}}""";
            const string Head = Replies.OpenAiChunkHead;
            var openAi = new List<byte[]>(tokens.Length + 1);
            for (var i = 0; i < tokens.Length; i++)
            {
                var delta = i == 0 ? $$"""{"role":"assistant","content":{{Replies.Json(tokens[i])}}}""" : $$"""{"content":{{Replies.Json(tokens[i])}}}""";
                openAi.Add(Replies.Event(Head + $$"""[{"index":0,"delta":{{delta}},"logprobs":null,"finish_reason":null}]}"""));
            }
            openAi.Add(Replies.Event(Head + """[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}"""));
            OpenAi = [.. openAi];
            OpenAiUsage = Replies.Event(Head + $$"""[],"usage":{{usage}}}""");
            var workersAi = tokens.Select(t => Replies.Event($$"""{"response":{{Replies.Json(t)}},"p":"abcdefgh"}""")).ToList();
            workersAi.Add(Replies.Event($$"""{"response":"","usage":{{usage}}}"""));
            WorkersAi = [.. workersAi];
        }

        /// <summary>Text events; the final event follows them in each list.</summary>
        public int Count { get; }

        public byte[][] OpenAi { get; }

        public byte[] OpenAiUsage { get; }

        public byte[][] WorkersAi { get; }
    }
}
