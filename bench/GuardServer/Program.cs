using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

// A Llama Guard stand-in for bench/stream-moderation.sh: the OpenAI-compatible completions endpoint the gateway's
// remote engine calls (Guard:Engine=OpenAi), answering every call "safe" after a fixed latency, and counting calls.
//   POST /v1/completions      {"model","prompt",...} -> choices[0].text = "safe" after the latency
//   GET  /stats?stream=ID     the calls of one benchmark stream (JSON, see StreamStats)
//   GET  /healthz
// The latency is --LatencyMs (default 20), or, per call, the one named by a tag "[bench stream=ID guard-ms=MS]" in the
// judged conversation (the benchmark driver writes it into the user message), so one gateway serves every latency.
// The tag's ID groups the calls per stream; the judged role is read from the prompt's task line (User: the prompt
// check, Agent: a response check).
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var guard = new FixedLatencyGuard(TimeSpan.FromMilliseconds(builder.Configuration.GetValue("LatencyMs", 20.0)));
var app = builder.Build();
app.Run(guard.HandleAsync);
await app.RunAsync();

/// <summary>Answers and counts the calls.</summary>
internal sealed partial class FixedLatencyGuard(TimeSpan defaultLatency)
{
    private readonly ConcurrentDictionary<long, StreamStats> _streams = new();
    private readonly StreamStats _untagged = new();

    public async Task HandleAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var request = context.Request;
        var path = request.Path.Value ?? "";
        if (HttpMethods.IsGet(request.Method) && path == "/healthz")
        {
            return;
        }
        if (HttpMethods.IsGet(request.Method) && path == "/stats")
        {
            await StatsAsync(context);
            return;
        }
        if (!HttpMethods.IsPost(request.Method) || path != "/v1/completions")
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        string prompt, model;
        try
        {
            var body = await JsonNode.ParseAsync(request.Body, cancellationToken: context.RequestAborted);
            prompt = body?["prompt"]?.GetValue<string>() ?? throw new JsonException("no prompt");
            model = body["model"]?.GetValue<string>() ?? "";
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var tag = Tag().Match(prompt);
        var latency = tag.Success ? TimeSpan.FromMilliseconds(double.Parse(tag.Groups[2].Value, CultureInfo.InvariantCulture)) : defaultLatency;
        var stats = tag.Success ? _streams.GetOrAdd(long.Parse(tag.Groups[1].Value, CultureInfo.InvariantCulture), _ => new StreamStats()) : _untagged;
        var role = TaskLine().Match(prompt) is { Success: true } m ? m.Groups[1].Value : null;
        stats.Begin(role, started);
        try
        {
            if (latency > TimeSpan.Zero)
            {
                await Task.Delay(latency, context.RequestAborted);
            }
            var answer = new JsonObject
            {
                ["id"] = "cmpl-bench-guard",
                ["object"] = "text_completion",
                ["created"] = 1700000000,
                ["model"] = model,
                ["choices"] = new JsonArray(new JsonObject
                {
                    ["index"] = 0,
                    ["text"] = "safe",
                    ["logprobs"] = null,
                    ["finish_reason"] = "stop",
                }),
                ["usage"] = new JsonObject { ["prompt_tokens"] = prompt.Length / 4, ["completion_tokens"] = 1, ["total_tokens"] = (prompt.Length / 4) + 1 },
            };
            stats.End(Stopwatch.GetElapsedTime(started));
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.ToJsonString(), context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            stats.Abort();
        }
    }

    private async Task StatsAsync(HttpContext context)
    {
        var id = context.Request.Query["stream"].ToString();
        var stats = id.Length == 0 ? _untagged
            : long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && _streams.TryGetValue(n, out var s) ? s
            : new StreamStats();
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(stats.ToJson(), context.RequestAborted);
    }

    [GeneratedRegex(@"\[bench stream=(\d+) guard-ms=(\d+(?:\.\d+)?)\]", RegexOptions.CultureInvariant)]
    private static partial Regex Tag();

    [GeneratedRegex(@"Check if there is unsafe content in '(User|Agent)' messages", RegexOptions.CultureInvariant)]
    private static partial Regex TaskLine();
}

/// <summary>The calls of one stream: how many judged the prompt (User) and the response (Agent), the most in flight at
/// once, the time the guard took (latency plus its own work), and when each call arrived, in ms after the first.</summary>
internal sealed class StreamStats
{
    private readonly Lock _lock = new();
    private readonly List<(string Role, double AtMs)> _arrivals = [];
    private long _first;
    private int _prompt;
    private int _response;
    private int _other;
    private int _inFlight;
    private int _maxInFlight;
    private int _aborted;
    private double _serviceMs;
    private int _served;

    public void Begin(string? role, long timestamp)
    {
        lock (_lock)
        {
            if (_arrivals.Count == 0)
            {
                _first = timestamp;
            }
            _ = role switch
            {
                "User" => _prompt++,
                "Agent" => _response++,
                _ => _other++,
            };
            _arrivals.Add((role ?? "?", Stopwatch.GetElapsedTime(_first, timestamp).TotalMilliseconds));
            _maxInFlight = Math.Max(_maxInFlight, ++_inFlight);
        }
    }

    public void End(TimeSpan service)
    {
        lock (_lock)
        {
            _inFlight--;
            _served++;
            _serviceMs += service.TotalMilliseconds;
        }
    }

    public void Abort()
    {
        lock (_lock)
        {
            _inFlight--;
            _aborted++;
        }
    }

    public string ToJson()
    {
        lock (_lock)
        {
            return new JsonObject
            {
                ["prompt"] = _prompt,
                ["response"] = _response,
                ["other"] = _other,
                ["aborted"] = _aborted,
                ["maxInFlight"] = _maxInFlight,
                ["meanServiceMs"] = _served > 0 ? Math.Round(_serviceMs / _served, 3) : null,
                ["arrivals"] = new JsonArray([.. _arrivals.Select(a => (JsonNode)new JsonObject { ["role"] = a.Role, ["atMs"] = Math.Round(a.AtMs, 3) })]),
            }.ToJsonString();
        }
    }
}
