using System.Globalization;
using System.Text.Json.Nodes;

namespace Guard.Engines;

/// <summary>Llama Guard on an OpenAI-compatible server (vLLM and the like) through <c>/v1/completions</c> with the
/// rendered prompt. With <c>logprobs</c>, the unsafe probability is read at the verdict position (see
/// <see cref="UnsafeProbabilityFromLogprobs"/>).</summary>
/// <param name="options">Validated options.</param>
/// <param name="http">The client used for calls (its own timeout infinite).</param>
/// <param name="time">Clock for latency, backoff and health.</param>
/// <param name="countTokens">Exact token counter, or null for the documented estimate.</param>
/// <param name="name">The engine's name on verdicts and errors; null or blank: <see cref="EngineName"/>.</param>
public sealed class OpenAiGuardEngine(RemoteGuardOptions options, HttpClient http, TimeProvider time, Func<string, int>? countTokens = null, string? name = null)
    : RemoteGuardEngine(options, http, time, countTokens)
{
    /// <summary>The engine's name unless it is given one.</summary>
    public const string EngineName = "remote-openai";

    /// <inheritdoc />
    public override string Name { get; } = string.IsNullOrWhiteSpace(name) ? EngineName : name;

    /// <inheritdoc />
    protected override string Kind => EngineName;

    /// <summary>Adds <c>logprobs=off</c>, or <c>logprobs=top&lt;n&gt;</c> with the alternatives asked for: they decide
    /// whether and how exactly verdicts carry an unsafe probability.</summary>
    /// <param name="fields">The fields so far.</param>
    protected override void AddCacheIdentityFields(IList<(string Key, string Value)> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        fields.Add(("logprobs", Options.Logprobs ? string.Create(CultureInfo.InvariantCulture, $"top{Options.TopLogprobs}") : "off"));
    }

    /// <summary>Whether verdicts carry an unsafe probability: log-probabilities are asked for (<see cref="RemoteGuardOptions.Logprobs"/>).</summary>
    public bool ReportsUnsafeProbability => Options.Logprobs;

    /// <inheritdoc />
    protected override async Task<GuardCompletion> SendAsync(string prompt, int maxTokens, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["model"] = Options.Model,
            ["prompt"] = prompt,
            ["max_tokens"] = maxTokens,
            ["temperature"] = 0,
        };
        if (Options.Logprobs)
        {
            body["logprobs"] = Options.TopLogprobs;
        }
        return Read(await PostJsonAsync(new Uri(Options.BaseAddress!, "v1/completions"), body, cancellationToken).ConfigureAwait(false));
    }

    private GuardCompletion Read(JsonNode root)
    {
        if (root["choices"] is not JsonArray { Count: > 0 } choices || choices[0] is not JsonObject choice
            || choice["text"] is not JsonValue textValue || !textValue.TryGetValue<string>(out var text))
        {
            throw new GuardEngineException($"{Name}: the guard server's answer has no choices[0].text");
        }
        var usage = root["usage"] as JsonObject;
        return new GuardCompletion(text, UnsafeProbabilityFromLogprobs(choice["logprobs"] as JsonObject),
            (int?)usage?["prompt_tokens"]?.GetValue<double>(), (int?)usage?["completion_tokens"]?.GetValue<double>());
    }

    /// <summary>Reads P(unsafe) from completion log-probabilities.</summary>
    /// <remarks>The verdict position is the first generated token that starts the word <c>safe</c> or <c>unsafe</c>
    /// (Llama Guard 3 emits blank lines first). Among that position's alternatives, the probability mass of tokens
    /// that begin <c>unsafe</c> but not <c>safe</c> (<c>unsafe</c>, <c>un</c>, ...) is P(unsafe) – exact when the server
    /// returns the <c>unsafe</c> token among its alternatives. When it is not among them but <c>safe</c> is,
    /// 1 - P(safe) is reported, an upper bound. Null when the server sent no usable log-probabilities.</remarks>
    public static double? UnsafeProbabilityFromLogprobs(JsonObject? logprobs)
    {
        if (logprobs?["tokens"] is not JsonArray tokens || logprobs["top_logprobs"] is not JsonArray tops)
        {
            return null;
        }
        for (var i = 0; i < tokens.Count && i < tops.Count; i++)
        {
            var word = Normalize(tokens[i]?.ToString());
            if (word.Length == 0)
            {
                continue;
            }
            if (!IsVerdictStart(word) || tops[i] is not JsonObject alternatives)
            {
                return null;
            }
            double unsafeMass = 0, safeMass = 0;
            var sawUnsafe = false;
            foreach (var (token, value) in alternatives)
            {
                if (value is not JsonValue v || !v.TryGetValue<double>(out var lp))
                {
                    continue;
                }
                var alt = Normalize(token);
                if (alt.Length > 0 && "unsafe".StartsWith(alt, StringComparison.Ordinal) && !"safe".StartsWith(alt, StringComparison.Ordinal))
                {
                    unsafeMass += Math.Exp(lp);
                    sawUnsafe = true;
                }
                else if (alt.Length > 0 && "safe".StartsWith(alt, StringComparison.Ordinal))
                {
                    safeMass += Math.Exp(lp);
                }
            }
            var p = sawUnsafe ? unsafeMass : safeMass > 0 ? 1 - safeMass : (double?)null;
            return p is { } value2 ? Math.Clamp(value2, 0, 1) : null;
        }
        return null;
    }

    private static bool IsVerdictStart(string word) =>
        "unsafe".StartsWith(word, StringComparison.Ordinal) || "safe".StartsWith(word, StringComparison.Ordinal)
        || word.StartsWith("unsafe", StringComparison.Ordinal) || word.StartsWith("safe", StringComparison.Ordinal);

    // Servers render tokens with SentencePiece's '▁' or byte-level 'Ġ'/'Ċ' markers, or as decoded text.
    private static string Normalize(string? token) =>
        (token ?? "").Replace('\u2581', ' ').Replace('\u0120', ' ').Replace('\u010A', '\n').Trim();
}
