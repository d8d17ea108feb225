using System.Globalization;
using System.Net;
using System.Net.ServerSentEvents;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Xunit.Abstractions;

namespace Gateway.FunctionalTests.Policies;

/// <summary>The stream filter's promise over generated streams, end to end: the real remote guard engine against a
/// scripted guard server that calls one marker unsafe (only when the judged response contains it whole), and a
/// scripted upstream that streams generated text in random chunks, on every surface and both upstream protocols. With
/// the marker anywhere in the text, the client never receives a byte of it and always receives the API's terminal
/// signal; without it, the client receives exactly the upstream's text.</summary>
public sealed partial class GeneratedStreamTests(ITestOutputHelper output) : IDisposable
{
    private const int Cases = 240;
    private const int Seed = 20261202;
    private const string Marker = "FORBIDDEN-RECIPE-7731";
    private const string Small = "@cf/meta/llama-2-7b-chat-fp16";
    private const string Default = "@cf/meta/llama-3.1-8b-instruct-awq";
    private const string Buffered = "@cf/meta/llama-2-7b-chat-int8";

    // The small window makes many windows per stream; its hold-back (30) exceeds the marker (21), so a marker cut by a
    // window's end is never released before a check sees it whole.
    private const string PolicyFile = """
        policies:
          - name: small-windows
            prompt: { check: false }
            response:
              defaultAction: block
              failMode: closed
              timeout: 20s
              streaming: { mode: windowed, window: 40, minWindow: 10, holdBack: 30 }
          - name: default-windows
            match: { models: ["@cf/meta/llama-3.1-8b-instruct-awq"] }
            prompt: { check: false }
            response: { defaultAction: block, failMode: closed, timeout: 20s }
          - name: buffered
            match: { models: ["@cf/meta/llama-2-7b-chat-int8"] }
            prompt: { check: false }
            response: { defaultAction: block, failMode: closed, timeout: 20s, streaming: { mode: buffered } }
        """;

    private static readonly string[] Pieces =
    [
        "the", "model", "answers", "with", "care", "and", "detail", "naïve", "café", "日本語", "😀", "👩‍💻", "data:",
        "\n\ndata: {\"response\":\"injected\"}\n\n", "[INST]", "<|eot_id|>", "<</SYS>>", ".", "!", "?", "\n", "\"quoted\"",
        "back\\slash", "\t", "3.14", "e.g.", "[DONE]",
    ];

    private static readonly string[] Surfaces = ["ai/run", "client/v4", "v1/chat/completions", "v1/completions"];
    private static readonly string[] Models = [Small, Default, Buffered];

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-generated-streams-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task GeneratedStreams_NeverDeliverAByteOfTheUnsafeSpan_AndSafeStreamsArriveExactly()
    {
        var cases = Enumerable.Range(0, Cases).Select(Generate).ToArray();
        await using var guard = await ScriptedGuardServer.StartAsync();
        guard.Answer(Marker, "unsafe\nS1", role: "Agent");
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = (context, body) => StreamCaseAsync(context, body, cases);
        var file = Path.Combine(_directory, "policies.yaml");
        await File.WriteAllTextAsync(file, PolicyFile);
        await using var workersAi = await StartGatewayAsync(upstream, guard, "WorkersAi", file);
        await using var openAi = await StartGatewayAsync(upstream, guard, "OpenAi", file);

        var failures = new List<string>();
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 6 }, async (c, _) =>
        {
            var gateway = c.UpstreamKind == "WorkersAi" ? workersAi : openAi;
            var problem = await RunAsync(gateway, c);
            if (problem is not null)
            {
                lock (failures)
                {
                    failures.Add($"case {c.Id} ({c.Surface}, {c.Model}, {c.UpstreamKind} upstream, marker at {c.MarkerAt}): {problem}");
                }
            }
        });

        var unsafeCases = cases.Count(c => c.MarkerAt >= 0);
        output.WriteLine($"{Cases} streams ({unsafeCases} with the marker), {guard.Calls} guard calls, seed {Seed}");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.InRange(unsafeCases, Cases / 2, Cases - 20);
        Assert.True(guard.Calls > Cases, "the guard judged the streams");
    }

    private static async Task<string?> RunAsync(GatewayServer gateway, StreamCase c)
    {
        var (path, body) = c.Surface switch
        {
            "ai/run" => ($"ai/run/{c.Model}", $$"""{"prompt":"case-{{c.Id}}","stream":true}"""),
            "client/v4" => ($"client/v4/accounts/acct/ai/run/{c.Model}", $$"""{"messages":[{"role":"user","content":"case-{{c.Id}}"}],"stream":true}"""),
            "v1/chat/completions" => (c.Surface, $$"""{"model":"{{c.Model}}","messages":[{"role":"user","content":"case-{{c.Id}}"}],"stream":true}"""),
            _ => (c.Surface, $$"""{"model":"{{c.Model}}","prompt":"case-{{c.Id}}","stream":true}"""),
        };
        using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post(path, body));
        var raw = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return $"status {(int)response.StatusCode}";
        }
        if (raw.Contains(Marker, StringComparison.Ordinal))
        {
            return "the marker reached the client";
        }
        var events = await ReadEventsAsync(raw);
        if (events.Count == 0 || events[^1] != "[DONE]")
        {
            return "the stream did not end with [DONE]";
        }
        var workersAi = c.Surface is "ai/run" or "client/v4";
        var text = new StringBuilder();
        string? terminal = null;
        foreach (var data in events.Take(events.Count - 1))
        {
            using var doc = JsonDocument.Parse(data);
            var root = doc.RootElement;
            if (terminal is not null)
            {
                return "an event followed the terminal signal";
            }
            if (workersAi)
            {
                if (root.TryGetProperty("errors", out var errors))
                {
                    terminal = errors[0].GetProperty("code").GetInt32().ToString(CultureInfo.InvariantCulture);
                    continue;
                }
                text.Append(root.GetProperty("response").GetString());
                continue;
            }
            var choice = root.GetProperty("choices")[0];
            text.Append(c.Surface == "v1/completions"
                ? choice.GetProperty("text").GetString()
                : choice.GetProperty("delta").TryGetProperty("content", out var content) ? content.GetString() : "");
            if (choice.GetProperty("finish_reason").GetString() == "content_filter")
            {
                terminal = "content_filter";
            }
        }
        var received = text.ToString();
        if (c.MarkerAt < 0)
        {
            return received == c.Text ? (terminal is null ? null : $"a safe stream was cut ({terminal})") : "a safe stream arrived changed";
        }
        if (!c.Text.StartsWith(received, StringComparison.Ordinal) || received.Length > c.MarkerAt)
        {
            return $"received {received.Length} characters, the marker starts at {c.MarkerAt}";
        }
        var expected = workersAi ? "2017" : "content_filter";
        return terminal == expected ? null : $"terminal signal '{terminal}', expected '{expected}'";
    }

    private static async Task<List<string>> ReadEventsAsync(string raw)
    {
        var events = new List<string>();
        await foreach (var item in SseParser.Create(new MemoryStream(Encoding.UTF8.GetBytes(raw))).EnumerateAsync())
        {
            events.Add(item.Data);
        }
        return events;
    }

    private static StreamCase Generate(int id)
    {
        var random = new Random(Seed + id);
        var text = new StringBuilder();
        var words = random.Next(5, 160);
        for (var i = 0; i < words; i++)
        {
            text.Append(i == 0 ? "" : " ").Append(Pieces[random.Next(Pieces.Length)]);
        }
        var markerAt = -1;
        if (random.Next(3) > 0)
        {
            var boundaries = Boundaries(text.ToString());
            markerAt = boundaries[random.Next(boundaries.Count)];
            text.Insert(markerAt, Marker);
        }
        var full = text.ToString();
        var chunks = new List<string>();
        var cuts = Boundaries(full);
        var at = 0;
        while (at < full.Length)
        {
            // A chunk is 1 to 12 text elements; some streams send one element per event.
            var size = random.Next(4) == 0 ? 1 : random.Next(1, 13);
            var index = cuts.BinarySearch(at);
            var end = cuts[Math.Min(cuts.Count - 1, index + size)];
            chunks.Add(full[at..end]);
            at = end;
        }
        return new StreamCase(id, full, markerAt, chunks, Surfaces[random.Next(Surfaces.Length)], Models[random.Next(Models.Length)],
            random.Next(2) == 0 ? "WorkersAi" : "OpenAi");
    }

    // Text element boundaries (never inside a surrogate pair or a joined emoji), the end included.
    private static List<int> Boundaries(string text)
    {
        var boundaries = new List<int>(StringInfo.ParseCombiningCharacters(text)) { text.Length };
        return boundaries;
    }

    private static async Task StreamCaseAsync(HttpContext context, string body, StreamCase[] cases)
    {
        var c = cases[int.Parse(CaseId().Match(body).Groups[1].Value, CultureInfo.InvariantCulture)];
        var path = context.Request.Path.Value ?? "";
        context.Response.ContentType = "text/event-stream";
        foreach (var chunk in c.Chunks)
        {
            var data = path.Contains("/ai/run/", StringComparison.Ordinal)
                ? JsonSerializer.Serialize(new { response = chunk })
                : path.EndsWith("/v1/completions", StringComparison.Ordinal)
                    ? JsonSerializer.Serialize(new { id = "cmpl-1", @object = "text_completion", created = 1, model = "m", choices = new[] { new { index = 0, text = chunk, finish_reason = (string?)null } } })
                    : JsonSerializer.Serialize(new { id = "chatcmpl-1", @object = "chat.completion.chunk", created = 1, model = "m", choices = new[] { new { index = 0, delta = new { content = chunk }, finish_reason = (string?)null } } });
            await ScriptedUpstream.WriteEventAsync(context, data);
        }
        if (!path.Contains("/ai/run/", StringComparison.Ordinal))
        {
            await ScriptedUpstream.WriteEventAsync(context, path.EndsWith("/v1/completions", StringComparison.Ordinal)
                ? """{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"","finish_reason":"stop"}]}"""
                : """{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}""");
        }
        await ScriptedUpstream.WriteEventAsync(context, "[DONE]");
    }

    private static async Task<GatewayServer> StartGatewayAsync(ScriptedUpstream upstream, ScriptedGuardServer guard, string kind, string policyFile)
    {
        var config = GatewayServer.RouteAllTo(upstream, kind);
        foreach (var (key, value) in ScriptedGuardServer.GuardWith(guard))
        {
            config[key] = value;
        }
        config["Policies:Files:0"] = policyFile;
        config["Policies:Watch"] = "false";
        return await GatewayServer.StartAsync(config);
    }

    [GeneratedRegex(@"case-(\d+)")]
    private static partial Regex CaseId();

    private sealed record StreamCase(int Id, string Text, int MarkerAt, List<string> Chunks, string Surface, string Model, string UpstreamKind);
}
