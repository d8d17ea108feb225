using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Guard.Conversations;
using Guard.Prompts;
using Guard.Verdicts;
using Polly;
using Polly.Timeout;

namespace Guard.Engines;

/// <summary>Shared flow of the remote engines: render the Llama Guard prompt (truncated to the context window by the
/// documented rule), call the server through a resilience pipeline (per-attempt timeouts, retries), parse the verdict.</summary>
/// <remarks>A conversation's own <see cref="GuardConversation.Taxonomy"/> replaces the engine's for its prompt and its
/// verdict; its renderer is made on first use and kept for the next calls.</remarks>
public abstract class RemoteGuardEngine : IGuardEngine
{
    private readonly PromptRendererCache _renderers;
    private readonly Func<string, int> _countTokens;
    private readonly GuardHealthTracker _health;
    private readonly ResiliencePipeline<HttpResponseMessage> _pipeline;
    private readonly bool _exactTokenCounts;
    private string? _cacheIdentity;

    /// <summary>Creates the engine.</summary>
    /// <param name="options">Validated options.</param>
    /// <param name="http">The client used for calls; its own timeout should be infinite (attempts are timed by the
    /// engine's resilience pipeline).</param>
    /// <param name="time">Clock for latency, backoff and health.</param>
    /// <param name="countTokens">Exact token counter (a loaded tokenizer), or null for the documented estimate.</param>
    protected RemoteGuardEngine(RemoteGuardOptions options, HttpClient http, TimeProvider time, Func<string, int>? countTokens)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        Http = http;
        Time = time;
        Taxonomy = GuardTaxonomy.FromConfig(options.Family, options.Taxonomy);
        _renderers = new PromptRendererCache(new LlamaGuardPromptRenderer(options.Family, Taxonomy));
        _countTokens = countTokens ?? EstimateTokens;
        _exactTokenCounts = countTokens is not null;
        _health = new GuardHealthTracker(time);
        _pipeline = RemoteGuardResilience.Build(options, time, _health);
    }

    /// <summary>The engine's options.</summary>
    protected RemoteGuardOptions Options { get; }

    /// <summary>The HTTP client.</summary>
    protected HttpClient Http { get; }

    /// <summary>The clock.</summary>
    protected TimeProvider Time { get; }

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public string Model => Options.Model;

    /// <inheritdoc />
    public GuardFamily Family => Options.Family;

    /// <inheritdoc />
    public GuardTaxonomy Taxonomy { get; }

    /// <inheritdoc />
    public GuardEngineHealth Health => _health.Snapshot;

    /// <summary>
    /// The engine's identity for verdict cache keys:
    /// <c>&lt;kind&gt;|base=&lt;address&gt;|model=...|family=...|context=...|max_tokens=...|tokens=estimate or tokenizer</c>,
    /// and what the engine kind adds (an OpenAI-compatible engine: <c>|logprobs=off</c> or <c>|logprobs=top&lt;n&gt;</c>).
    /// The base address is written as scheme, host, port and path only: no user info, query or fragment; the API token
    /// and the account id are never part of it. <c>context</c> and <c>tokens</c> decide truncation, <c>max_tokens</c>
    /// bounds the answer. The configured engine name is not part of it.
    /// </summary>
    /// <remarks>Made on first use from the options; the options must not change after the engine is created.</remarks>
    public string CacheIdentity => _cacheIdentity ??= BuildCacheIdentity();

    /// <summary>The engine kind that starts <see cref="CacheIdentity"/> (for example <c>remote-openai</c>); the type name unless overridden.</summary>
    protected virtual string Kind => GetType().Name;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The taxonomy was built for another family.</exception>
    /// <remarks>The engine's own taxonomy is a field read; another one a lock-free lookup in
    /// <see cref="LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily, GuardTaxonomy?, GuardRole)"/>'s cache.</remarks>
    public string GetPromptFormatDigest(GuardTaxonomy? taxonomy, GuardRole role) =>
        taxonomy is null || ReferenceEquals(taxonomy, _renderers.Default.Taxonomy)
            ? _renderers.Default.GetFormatDigest(role)
            : LlamaGuardPromptRenderer.GetFormatDigest(Family, taxonomy, role);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The conversation's taxonomy was built for another family.</exception>
    public async ValueTask<GuardVerdict> ClassifyAsync(GuardConversation conversation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var started = Time.GetTimestamp();
        var renderer = _renderers.Get(conversation.Taxonomy);
        var prompt = renderer.Render(conversation, Options.ContextTokens - Options.MaxTokens, _countTokens);
        var completion = await CompleteAsync(prompt.Full, Options.MaxTokens, cancellationToken).ConfigureAwait(false);
        var parsed = GuardVerdictParser.Parse(completion.Text, renderer.Taxonomy);
        return GuardVerdict.FromParsed(parsed, Name, Model, Time.GetElapsedTime(started), completion.UnsafeProbability, prompt.Truncated);
    }

    /// <inheritdoc />
    /// <remarks>Conversations may each carry their own taxonomy; every one is checked before any call is made.</remarks>
    /// <exception cref="ArgumentException">A conversation is null or its taxonomy was built for another family.</exception>
    public async ValueTask<IReadOnlyList<GuardVerdict>> ClassifyBatchAsync(IReadOnlyList<GuardConversation> conversations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversations);
        _renderers.CheckAll(conversations);
        var tasks = conversations.Select(c => ClassifyAsync(c, cancellationToken).AsTask()).ToArray();
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<GuardCompletion> CompleteAsync(string prompt, int maxTokens, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(prompt);
        try
        {
            var result = await SendAsync(prompt, maxTokens, cancellationToken).ConfigureAwait(false);
            _health.Success();
            return result;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (Classify(ex, out var failure))
        {
            _health.Failure(failure.Message);
            throw failure;
        }
    }

    /// <summary>Adds the settings of this engine kind that change its answers to <see cref="CacheIdentity"/>, after the shared ones.</summary>
    /// <param name="fields">The fields so far; add <c>(key, value)</c> pairs.</param>
    protected virtual void AddCacheIdentityFields(IList<(string Key, string Value)> fields)
    {
    }

    private string BuildCacheIdentity()
    {
        var fields = new List<(string Key, string Value)>
        {
            ("base", EngineIdentity.Address(Options.BaseAddress)),
            ("model", Options.Model),
            ("family", Options.Family.ToString()),
            ("context", Options.ContextTokens.ToString(CultureInfo.InvariantCulture)),
            ("max_tokens", Options.MaxTokens.ToString(CultureInfo.InvariantCulture)),
            ("tokens", _exactTokenCounts ? "tokenizer" : "estimate"),
        };
        AddCacheIdentityFields(fields);
        return EngineIdentity.Join(Kind, CollectionsMarshal.AsSpan(fields));
    }

    /// <summary>Sends one call (retried by the resilience pipeline); throws <see cref="RemoteStatusException"/> for HTTP
    /// errors and <see cref="GuardEngineException"/> for malformed replies.</summary>
    protected abstract Task<GuardCompletion> SendAsync(string prompt, int maxTokens, CancellationToken cancellationToken);

    /// <summary>Posts a JSON body with the configured bearer token and parses the JSON answer; HTTP errors become
    /// <see cref="RemoteStatusException"/> and malformed answers <see cref="GuardEngineException"/>. Transient failures
    /// (connection errors, attempt timeouts, 408, 429, 5xx) are retried first, as configured.</summary>
    protected async Task<JsonNode> PostJsonAsync(Uri uri, JsonObject body, CancellationToken cancellationToken)
    {
        using var response = await _pipeline.ExecuteAsync(
            static async (state, token) =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, state.uri) { Content = JsonContent.Create(state.body) };
                if (!string.IsNullOrEmpty(state.engine.Options.ApiToken))
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", state.engine.Options.ApiToken);
                }
                // The default completion option buffers the body, so the attempt timeout covers all of it.
                return await state.engine.Http.SendAsync(request, token).ConfigureAwait(false);
            },
            (engine: this, uri, body),
            cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonNode.Parse(text) ?? throw new GuardEngineException($"{Name}: the guard server's answer is JSON null");
        }
        catch (JsonException ex)
        {
            throw new GuardEngineException($"{Name}: the guard server's answer is not JSON", ex);
        }
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        throw new RemoteStatusException(response.StatusCode, body.Length > 300 ? body[..300] : body);
    }

    private bool Classify(Exception ex, out GuardEngineException failure)
    {
        failure = ex switch
        {
            GuardEngineException g => g,
            RemoteStatusException s => new GuardEngineException(
                $"{Name}: the guard server answered HTTP {(int)s.Status}", IsTransient(s.Status), s),
            TimeoutRejectedException or OperationCanceledException => new GuardEngineException($"{Name}: no answer within {Options.Timeout.TotalSeconds:0.###} s", transient: true, ex),
            HttpRequestException or IOException => new GuardEngineException($"{Name}: the guard server could not be reached ({ex.GetType().Name})", transient: true, ex),
            _ => null!,
        };
        return failure is not null;
    }

    // The statuses the resilience pipeline retries (HttpClientResiliencePredicates.IsTransient).
    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>The token estimate used when no tokenizer is configured: ASCII text at 3 bytes per token and
    /// every other UTF-8 byte as one token (the byte-fallback worst case). See docs/guard.md.</summary>
    public static int EstimateTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ascii = 0;
        var other = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.IsAscii)
            {
                ascii++;
            }
            else
            {
                other += rune.Utf8SequenceLength;
            }
        }
        return (ascii + 2) / 3 + other;
    }

    /// <summary>An HTTP error status from the guard server.</summary>
    protected sealed class RemoteStatusException(HttpStatusCode status, string body) : Exception($"HTTP {(int)status}")
    {
        /// <summary>The status.</summary>
        public HttpStatusCode Status { get; } = status;

        /// <summary>The start of the body (never logged by the engine; may help debugging).</summary>
        public string Body { get; } = body;
    }

}
