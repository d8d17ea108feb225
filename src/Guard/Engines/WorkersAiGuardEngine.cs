using System.Text.Json.Nodes;

namespace Guard.Engines;

/// <summary>Llama Guard on Cloudflare Workers AI (<c>@hf/thebloke/llamaguard-7b-awq</c>, or
/// <c>@cf/meta/llama-guard-3-8b</c>): the rendered prompt is sent with <c>raw: true</c>, so the bytes the model sees
/// are the gateway's own rendering. Workers AI returns no log-probabilities, so verdicts carry no unsafe probability.</summary>
/// <param name="options">Validated options.</param>
/// <param name="http">The client used for calls (its own timeout infinite).</param>
/// <param name="time">Clock for latency, backoff and health.</param>
/// <param name="countTokens">Exact token counter, or null for the documented estimate.</param>
/// <param name="name">The engine's name on verdicts and errors; null or blank: <see cref="EngineName"/>.</param>
public sealed class WorkersAiGuardEngine(RemoteGuardOptions options, HttpClient http, TimeProvider time, Func<string, int>? countTokens = null, string? name = null)
    : RemoteGuardEngine(options, http, time, countTokens)
{
    /// <summary>The engine's name unless it is given one.</summary>
    public const string EngineName = "remote-workers-ai";

    /// <inheritdoc />
    public override string Name { get; } = string.IsNullOrWhiteSpace(name) ? EngineName : name;

    /// <inheritdoc />
    protected override string Kind => EngineName;

    /// <inheritdoc />
    protected override async Task<GuardCompletion> SendAsync(string prompt, int maxTokens, CancellationToken cancellationToken)
    {
        var uri = new Uri(Options.BaseAddress!, $"client/v4/accounts/{Uri.EscapeDataString(Options.AccountId!)}/ai/run/{Options.Model}");
        var body = new JsonObject
        {
            ["prompt"] = prompt,
            ["raw"] = true,
            ["max_tokens"] = maxTokens,
            ["temperature"] = 0,
        };
        return Read(await PostJsonAsync(uri, body, cancellationToken).ConfigureAwait(false));
    }

    private GuardCompletion Read(JsonNode root)
    {
        if (root is not JsonObject obj)
        {
            throw new GuardEngineException($"{Name}: the guard server's answer is not a JSON object");
        }
        if (obj["success"] is JsonValue success && success.TryGetValue<bool>(out var ok) && !ok)
        {
            var message = obj["errors"] is JsonArray { Count: > 0 } errors ? errors[0]?["message"]?.ToString() : null;
            throw new GuardEngineException($"{Name}: the guard server reported an error: {message ?? "unknown"}");
        }
        var result = obj["result"] as JsonObject ?? obj;
        var usage = result["usage"] as JsonObject;
        var text = result["response"] switch
        {
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            // Llama Guard 3 on Workers AI answers {"safe": bool, "categories": [...]}.
            JsonObject structured => FromStructured(structured),
            _ => throw new GuardEngineException($"{Name}: the guard server's answer has no 'response'"),
        };
        return new GuardCompletion(text, UnsafeProbability: null,
            (int?)usage?["prompt_tokens"]?.GetValue<double>(), (int?)usage?["completion_tokens"]?.GetValue<double>());
    }

    private string FromStructured(JsonObject structured)
    {
        if (structured["safe"] is not JsonValue safeValue || !safeValue.TryGetValue<bool>(out var safe))
        {
            throw new GuardEngineException($"{Name}: the guard server's structured answer has no boolean 'safe'");
        }
        if (safe)
        {
            return "safe";
        }
        var codes = structured["categories"] is JsonArray categories
            ? string.Join(",", categories.Select(c => c?.ToString()).Where(c => !string.IsNullOrEmpty(c)))
            : "";
        return codes.Length == 0 ? "unsafe" : "unsafe\n" + codes;
    }
}
