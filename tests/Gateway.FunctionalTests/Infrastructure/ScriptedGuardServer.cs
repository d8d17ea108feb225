using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Guard.Engines;
using Guard.Prompts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>One <c>/v1/completions</c> call the scripted guard server received.</summary>
/// <param name="Model">The <c>model</c> field.</param>
/// <param name="Prompt">The whole rendered prompt.</param>
/// <param name="Role">The role the prompt's task line judges (<c>User</c> or <c>Agent</c>), or null when it names none.</param>
/// <param name="Conversation">The judged conversation section of the prompt (the whole prompt when it has no markers).</param>
/// <param name="MaxTokens">The <c>max_tokens</c> field, or null.</param>
/// <param name="Temperature">The <c>temperature</c> field, or null.</param>
/// <param name="Logprobs">The <c>logprobs</c> field (alternatives per position), or null when not asked for.</param>
/// <param name="Authorization">The <c>Authorization</c> header, or null.</param>
public sealed record GuardServerRequest(
    string Model, string Prompt, string? Role, string Conversation, int? MaxTokens, double? Temperature, int? Logprobs, string? Authorization);

/// <summary>
/// A real HTTP server on loopback that speaks the OpenAI-compatible completions API as vLLM serves Llama Guard, for
/// end-to-end tests of the gateway's real remote engine (<see cref="OpenAiGuardEngine"/>); not a model.
/// </summary>
/// <remarks>
/// Each rule maps a substring of the judged conversation (the text between <c>&lt;BEGIN CONVERSATION&gt;</c> and
/// <c>&lt;END CONVERSATION&gt;</c>, so the taxonomy never matches), optionally for one judged role, to an answer, an
/// HTTP error or a stall; the first matching rule wins, otherwise <see cref="DefaultOutput"/>. Answers carry
/// deterministic <c>usage</c> and, when asked for, vLLM-style <c>logprobs</c> from which the engine reads the scripted
/// unsafe probability. Every call waits <see cref="Latency"/> on the injected clock first. Thread-safe.
/// </remarks>
public sealed partial class ScriptedGuardServer : IAsyncDisposable
{
    /// <summary>The served model name of Llama Guard 3 on the scripted server.</summary>
    public const string LlamaGuard3Model = "llama-guard-3-8b";

    /// <summary>The bearer token <see cref="GuardWith"/> configures the gateway to send.</summary>
    public const string ApiToken = "scripted-guard-server-token";

    private const string BeginConversation = "<BEGIN CONVERSATION>";
    private const string EndConversation = "<END CONVERSATION>";
    private const string EndCategories = "<END UNSAFE CONTENT CATEGORIES>";

    // vLLM reports -inf log-probabilities as -9999.0.
    private const double MinLogprob = -9999.0;

    private readonly WebApplication _app;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly List<Rule> _rules = [];
    private readonly List<GuardServerRequest> _requests = [];
    private int _calls;
    private int _inFlight;
    private int _maxConcurrency;
    private int _aborted;

    private ScriptedGuardServer(WebApplication app, TimeProvider time)
    {
        _app = app;
        _time = time;
    }

    /// <summary>http://127.0.0.1:port/</summary>
    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The output when no rule matches.</summary>
    public string DefaultOutput { get; set; } = "safe";

    /// <summary>The unsafe probability when no rule matches; null derives it from the output (1 for <c>unsafe</c>, 0 otherwise).</summary>
    public double? DefaultUnsafeProbability { get; set; }

    /// <summary>How long every call waits, on the injected clock, before it is answered (honouring the request's abort).</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Whether answers carry <c>logprobs</c> when asked for; false answers <c>logprobs: null</c> like servers
    /// that do not support them.</summary>
    public bool SendLogprobs { get; set; } = true;

    /// <summary>Every well-formed call, in arrival order.</summary>
    public IReadOnlyList<GuardServerRequest> Requests
    {
        get
        {
            lock (_lock)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>How many calls arrived at <c>/v1/completions</c>.</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>How many calls are being handled now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>The most calls handled at once so far.</summary>
    public int MaxConcurrency => Volatile.Read(ref _maxConcurrency);

    /// <summary>How many calls the caller abandoned while they waited (latency or stall).</summary>
    public int Aborted => Volatile.Read(ref _aborted);

    /// <summary>Starts the server on a free loopback port.</summary>
    /// <param name="timeProvider">The clock <see cref="Latency"/> waits on; default <see cref="TimeProvider.System"/>.</param>
    public static async Task<ScriptedGuardServer> StartAsync(TimeProvider? timeProvider = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var self = new ScriptedGuardServer(app, timeProvider ?? TimeProvider.System);
        app.Run(context => context.Request is { Method: "POST", Path.Value: "/v1/completions" }
            ? self.CompleteAsync(context)
            : ErrorAsync(context, 404, "NotFoundError", "Only POST /v1/completions is served.", context.RequestAborted));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        self.BaseAddress = new Uri(address.TrimEnd('/') + "/");
        return self;
    }

    /// <summary>Gateway configuration that makes its guard the real remote engine (<c>Guard:Engine</c> <c>OpenAi</c>)
    /// calling <paramref name="server"/>.</summary>
    /// <param name="server">The scripted server.</param>
    /// <param name="family">The prompt format the engine renders (and the taxonomy policies use).</param>
    /// <param name="logprobs">Whether the engine asks for log-probabilities (and so reports unsafe probabilities).</param>
    /// <param name="model">The served model name; default: the family's usual name (<see cref="LlamaGuard3Model"/> for Llama Guard 3).</param>
    public static Dictionary<string, string?> GuardWith(
        ScriptedGuardServer server, GuardFamily family = GuardFamily.LlamaGuard3, bool logprobs = true, string? model = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        return new Dictionary<string, string?>
        {
            ["Guard:Engine"] = "OpenAi",
            ["Guard:Remote:BaseAddress"] = server.BaseAddress.ToString(),
            ["Guard:Remote:ApiToken"] = ApiToken,
            ["Guard:Remote:Model"] = model ?? ModelFor(family),
            ["Guard:Remote:Family"] = family.ToString(),
            ["Guard:Remote:Logprobs"] = logprobs ? "true" : "false",
        };
    }

    /// <summary>Gateway configuration that adds a named guard engine (<c>Guard:Engines:{name}</c>, kind <c>OpenAi</c>)
    /// calling <paramref name="server"/>, beside any other engines.</summary>
    /// <param name="server">The scripted server.</param>
    /// <param name="name">The engine's name, as policies name it.</param>
    /// <param name="family">The prompt format the engine renders (and the taxonomy policies use).</param>
    /// <param name="logprobs">Whether the engine asks for log-probabilities (and so reports unsafe probabilities).</param>
    /// <param name="model">The served model name; default: the family's usual name.</param>
    public static Dictionary<string, string?> EngineWith(
        ScriptedGuardServer server, string name, GuardFamily family = GuardFamily.LlamaGuard3, bool logprobs = true, string? model = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Dictionary<string, string?>
        {
            [$"Guard:Engines:{name}:Engine"] = "OpenAi",
            [$"Guard:Engines:{name}:Remote:BaseAddress"] = server.BaseAddress.ToString(),
            [$"Guard:Engines:{name}:Remote:ApiToken"] = ApiToken,
            [$"Guard:Engines:{name}:Remote:Model"] = model ?? ModelFor(family),
            [$"Guard:Engines:{name}:Remote:Family"] = family.ToString(),
            [$"Guard:Engines:{name}:Remote:Logprobs"] = logprobs ? "true" : "false",
        };
    }

    /// <summary>The usual served model name of a Llama Guard generation.</summary>
    public static string ModelFor(GuardFamily family) => family switch
    {
        GuardFamily.LlamaGuard1 => "llamaguard-7b",
        GuardFamily.LlamaGuard2 => "meta-llama-guard-2-8b",
        _ => LlamaGuard3Model,
    };

    /// <summary>Answers <paramref name="output"/> (such as <c>unsafe\nS1</c>) when the judged conversation contains
    /// <paramref name="contains"/> (ordinal; empty matches every call) and, if given, the judged role is <paramref name="role"/>.</summary>
    /// <param name="contains">The substring of the judged conversation.</param>
    /// <param name="output">The generated text (Llama Guard 3 prompts get the model's leading blank line added).</param>
    /// <param name="unsafeProbability">The unsafe probability the log-probabilities encode; null derives it from the output.</param>
    /// <param name="role">Only when this role (<c>User</c> or <c>Agent</c>) is judged; null: any.</param>
    public ScriptedGuardServer Answer(string contains, string output, double? unsafeProbability = null, string? role = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (unsafeProbability is < 0 or > 1 or double.NaN)
        {
            throw new ArgumentOutOfRangeException(nameof(unsafeProbability), unsafeProbability, "A probability is between 0 and 1.");
        }
        return Add(contains, role, output, unsafeProbability, null, false);
    }

    /// <summary>Answers HTTP <paramref name="status"/> with a vLLM-style error body when the judged conversation
    /// contains <paramref name="contains"/> (and, if given, the judged role is <paramref name="role"/>).</summary>
    public ScriptedGuardServer Fail(string contains, int status, string? role = null)
    {
        if (status is < 400 or > 599)
        {
            throw new ArgumentOutOfRangeException(nameof(status), status, "An error status is 4xx or 5xx.");
        }
        return Add(contains, role, null, null, status, false);
    }

    /// <summary>Never answers, until the caller aborts the request or the server stops, when the judged conversation
    /// contains <paramref name="contains"/> (and, if given, the judged role is <paramref name="role"/>).</summary>
    public ScriptedGuardServer Stall(string contains, string? role = null) => Add(contains, role, null, null, null, true);

    /// <summary>The judged conversation section of a rendered Llama Guard prompt: between the conversation markers,
    /// without the blank line after the opening one; the whole prompt when it has no markers.</summary>
    public static string ConversationOf(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        // The opening marker is searched after the taxonomy, the closing one from the end, so neither a custom
        // category text nor a conversation that quotes the markers moves the section.
        var categoriesEnd = prompt.IndexOf(EndCategories, StringComparison.Ordinal);
        var begin = prompt.IndexOf(BeginConversation, Math.Max(categoriesEnd, 0), StringComparison.Ordinal);
        var end = prompt.LastIndexOf(EndConversation, StringComparison.Ordinal);
        if (begin < 0 || end < begin + BeginConversation.Length)
        {
            return prompt;
        }
        var start = begin + BeginConversation.Length;
        var section = prompt[start..end];
        return section.StartsWith("\n\n", StringComparison.Ordinal) ? section[2..] : section;
    }

    /// <summary>The role a rendered Llama Guard prompt's task line judges (<c>User</c> or <c>Agent</c>), or null.</summary>
    public static string? RoleOf(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        var match = TaskLine().Match(prompt);
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>The token pieces the server reports for a generated text: runs of whitespace, of letters, of digits,
    /// and single other characters (Llama 3 splits <c>\n\nunsafe\nS1</c> the same way).</summary>
    public static IReadOnlyList<string> Tokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return [.. TokenPattern().Matches(text).Select(m => m.Value)];
    }

    /// <summary>Stops the server; calls still stalled or waiting are released first.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _stopping.Dispose();
    }

    private ScriptedGuardServer Add(string contains, string? role, string? output, double? unsafeProbability, int? status, bool stall)
    {
        ArgumentNullException.ThrowIfNull(contains);
        if (role is not (null or "User" or "Agent"))
        {
            throw new ArgumentOutOfRangeException(nameof(role), role, "The judged role is 'User' or 'Agent'.");
        }
        lock (_lock)
        {
            _rules.Add(new Rule(contains, role, output, unsafeProbability, status, stall));
        }
        return this;
    }

    private async Task CompleteAsync(HttpContext context)
    {
        Interlocked.Increment(ref _calls);
        var now = Interlocked.Increment(ref _inFlight);
        for (var seen = Volatile.Read(ref _maxConcurrency); now > seen; seen = Volatile.Read(ref _maxConcurrency))
        {
            if (Interlocked.CompareExchange(ref _maxConcurrency, now, seen) == seen)
            {
                break;
            }
        }
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        try
        {
            await HandleAsync(context, abort.Token);
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            Interlocked.Increment(ref _aborted);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task HandleAsync(HttpContext context, CancellationToken cancellationToken)
    {
        JsonObject body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: cancellationToken) as JsonObject
                ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            await ErrorAsync(context, 400, "BadRequestError", "The request body is not a JSON object.", cancellationToken);
            return;
        }
        if (body["prompt"] is not JsonValue promptValue || !promptValue.TryGetValue<string>(out var prompt)
            || body["model"] is not JsonValue modelValue || !modelValue.TryGetValue<string>(out var model))
        {
            await ErrorAsync(context, 400, "BadRequestError", "'model' and a string 'prompt' are required.", cancellationToken);
            return;
        }
        var maxTokens = Number(body["max_tokens"]) is { } m ? (int)m : (int?)null;
        var logprobs = Number(body["logprobs"]) is { } l ? (int)l : (int?)null;
        var role = RoleOf(prompt);
        var conversation = ConversationOf(prompt);
        Rule? rule;
        lock (_lock)
        {
            _requests.Add(new GuardServerRequest(model, prompt, role, conversation, maxTokens, Number(body["temperature"]), logprobs,
                context.Request.Headers.Authorization.Count > 0 ? context.Request.Headers.Authorization.ToString() : null));
            rule = _rules.FirstOrDefault(r => conversation.Contains(r.Contains, StringComparison.Ordinal)
                && (r.Role is null || string.Equals(r.Role, role, StringComparison.Ordinal)));
        }

        if (Latency > TimeSpan.Zero)
        {
            await Task.Delay(Latency, _time, cancellationToken);
        }
        if (rule is { Stall: true })
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, _time, cancellationToken);
        }
        if (rule?.Status is { } status)
        {
            await ErrorAsync(context, status, status >= 500 ? "InternalServerError" : "BadRequestError", "Scripted guard server failure.", cancellationToken);
            return;
        }

        var output = rule?.Output ?? DefaultOutput;
        var probability = rule is null ? DefaultUnsafeProbability : rule.UnsafeProbability;
        // Llama Guard 3's prompt ends with the assistant header; the model starts its answer with a blank line.
        var text = prompt.EndsWith("<|end_header_id|>", StringComparison.Ordinal) && !output.StartsWith('\n') ? "\n\n" + output : output;
        var tokens = Tokens(text).ToList();
        var finish = "stop";
        if (maxTokens is { } limit && tokens.Count > limit)
        {
            tokens.RemoveRange(limit, tokens.Count - limit);
            text = string.Concat(tokens);
            finish = "length";
        }

        var promptTokens = RemoteGuardEngine.EstimateTokens(prompt);
        var answer = new JsonObject
        {
            ["id"] = $"cmpl-scripted-{Calls}",
            ["object"] = "text_completion",
            ["created"] = _time.GetUtcNow().ToUnixTimeSeconds(),
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["text"] = text,
                ["logprobs"] = logprobs is { } n && SendLogprobs ? Logprobs(tokens, probability, n) : null,
                ["finish_reason"] = finish,
                ["stop_reason"] = null,
            }),
            ["usage"] = new JsonObject
            {
                ["prompt_tokens"] = promptTokens,
                ["total_tokens"] = promptTokens + tokens.Count,
                ["completion_tokens"] = tokens.Count,
            },
        };
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(answer.ToJsonString(), cancellationToken);
    }

    /// <summary>vLLM's completions <c>logprobs</c>: every position's token with its log-probability and its top
    /// alternatives; when the first non-blank token is <c>safe</c> or <c>unsafe</c>, <c>unsafe</c> carries
    /// <paramref name="probability"/> there and <c>safe</c> the rest, the chosen token always listed and the other when
    /// <paramref name="top"/> allows; every other token is certain.</summary>
    private static JsonObject Logprobs(List<string> tokens, double? probability, int top)
    {
        var offsets = new JsonArray();
        var tokenLogprobs = new JsonArray();
        var tokenArray = new JsonArray();
        var tops = new JsonArray();
        var offset = 0;
        var verdictSeen = false;
        foreach (var token in tokens)
        {
            offsets.Add(offset);
            offset += token.Length;
            tokenArray.Add(token);
            var alternatives = new JsonObject();
            var word = token.Trim();
            if (!verdictSeen && word is "safe" or "unsafe")
            {
                verdictSeen = true;
                var chosenUnsafe = word == "unsafe";
                var p = probability ?? (chosenUnsafe ? 1.0 : 0.0);
                var (other, chosenLp, otherLp) = chosenUnsafe ? ("safe", Log(p), Log(1 - p)) : ("unsafe", Log(1 - p), Log(p));
                alternatives[token] = chosenLp;
                if (top > 1)
                {
                    alternatives[other] = otherLp;
                }
                tokenLogprobs.Add(chosenLp);
            }
            else
            {
                verdictSeen |= word.Length > 0;
                alternatives[token] = 0.0;
                tokenLogprobs.Add(0.0);
            }
            tops.Add(alternatives);
        }
        return new JsonObject
        {
            ["text_offset"] = offsets,
            ["token_logprobs"] = tokenLogprobs,
            ["tokens"] = tokenArray,
            ["top_logprobs"] = tops,
        };
    }

    private static double Log(double p) => p <= 0 ? MinLogprob : Math.Max(Math.Log(p), MinLogprob);

    private static double? Number(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<double>(out var number) ? number : null;

    private static async Task ErrorAsync(HttpContext context, int status, string type, string message, CancellationToken cancellationToken)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var body = new JsonObject
        {
            ["object"] = "error",
            ["message"] = message,
            ["type"] = type,
            ["param"] = null,
            ["code"] = status,
        };
        await context.Response.WriteAsync(body.ToJsonString(), cancellationToken);
    }

    [GeneratedRegex(@"Check if there is unsafe content in '(User|Agent)' messages", RegexOptions.CultureInvariant)]
    private static partial Regex TaskLine();

    [GeneratedRegex(@"\s+|\p{L}+|\p{Nd}+|.", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex TokenPattern();

    private sealed record Rule(string Contains, string? Role, string? Output, double? UnsafeProbability, int? Status, bool Stall);
}
