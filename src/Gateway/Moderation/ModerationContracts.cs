using Gateway.Generation;
using Gateway.Upstreams;
using Guard.Conversations;
using Microsoft.AspNetCore.Http;
using Policies.Model;

namespace Gateway.Moderation;

/// <summary>What the pipeline's steps know about one request: the policy (set by policy selection), the decisions of
/// the checks, read by the steps after them and by the audit.</summary>
public sealed class ModerationContext(HttpContext httpContext, GenerationRequest request)
{
    private IReadOnlyList<GuardChatMessage>? _promptMessages;

    /// <summary>The client's HTTP exchange.</summary>
    public HttpContext HttpContext { get; } = httpContext;

    /// <summary>The validated request.</summary>
    public GenerationRequest Request { get; } = request;

    /// <summary>The caller's tenant, from authentication; null without API keys.</summary>
    public string? Tenant => HttpContext.Features.Get<Auth.CallerIdentity>()?.Tenant;

    /// <summary>The policy that applies; null when the request is exempt (the served guard model) or not yet selected.</summary>
    public PolicyModel? Policy { get; set; }

    /// <summary>The prompt check's decision, once made.</summary>
    public ModerationDecision? PromptDecision { get; set; }

    /// <summary>The response check's decision (for a stream, the strictest of its checks), once made.</summary>
    public ModerationDecision? ResponseDecision { get; set; }

    /// <summary>How many guard checks judged the streamed response.</summary>
    public int StreamChecks { get; set; }

    /// <summary>How many of the stream's checks took their verdict from the cache.</summary>
    public int StreamCacheHits { get; set; }

    /// <summary>When the request started (<see cref="TimeProvider.GetTimestamp"/> of the host's time provider).</summary>
    public long StartedAt { get; init; }

    /// <summary>The API call's span, when traces are collected; steps add what they learn to it.</summary>
    public System.Diagnostics.Activity? Span { get; init; }

    /// <summary>Whether the audit record may carry the prompt and response text (<c>Telemetry:AuditContent</c>).</summary>
    public bool CaptureContent { get; init; }

    /// <summary>The streamed response's filter mode (<c>windowed</c>, <c>buffered</c>, <c>audit</c>, <c>none</c>);
    /// null for unary answers.</summary>
    public string? StreamMode { get; set; }

    /// <summary>Whether the upstream failed after the answer started (a cut stream): the client got an error.</summary>
    public bool UpstreamFailed { get; set; }

    /// <summary>Token counts the upstream reported, when it did.</summary>
    public Usage? Usage { get; set; }

    /// <summary>Why the upstream stopped generating, when it said.</summary>
    public string? FinishReason { get; set; }

    /// <summary>The generated text, kept only when <see cref="CaptureContent"/> is on.</summary>
    public string? ResponseText { get; set; }

    /// <summary>The request's conversation as chat messages for the guard (ADR 004), read once and shared by the prompt
    /// and response checks.</summary>
    /// <exception cref="Errors.ApiException">A <c>tool_calls</c> entry cannot be read.</exception>
    public IReadOnlyList<GuardChatMessage> PromptMessages => _promptMessages ??= PromptConversation.Messages(Request);
}

/// <summary>The outcome of a moderation check.</summary>
/// <param name="Allowed">Whether the content may pass.</param>
/// <param name="Reason">Why it was blocked; safe to show to the client (never contains the content itself).</param>
/// <param name="Categories">Violated category codes, when known.</param>
public sealed record ModerationDecision(bool Allowed, string? Reason = null, IReadOnlyList<string>? Categories = null)
{
    /// <summary>The policy that decided, when one did.</summary>
    public string? Policy { get; init; }

    /// <summary>What happened, for the response metadata: <c>allowed</c>, <c>flagged</c>, <c>blocked</c>,
    /// <c>fail-open</c>, <c>fail-closed</c> or <c>not-checked</c>.</summary>
    public string? Outcome { get; init; }

    /// <summary>For a block: its categories as the <c>category</c> tag of <c>gateway.moderation.blocks</c> spells
    /// them (the codes the policy's taxonomy knows, <c>unknown</c> for others, <c>none</c> for an empty code).</summary>
    public IReadOnlyList<string>? CategoryTags { get; init; }

    /// <summary>How the check used the verdict cache: <c>hit</c>, <c>miss</c>, or null when it did not.</summary>
    public string? Cache { get; init; }

    /// <summary>Blocked because the guard gave no usable verdict and the policy fails closed (a 503, not a 400).</summary>
    public bool GuardUnavailable { get; init; }

    /// <summary>The content may pass.</summary>
    public static ModerationDecision Allow { get; } = new(true);

    /// <summary>The content must not pass.</summary>
    public static ModerationDecision Block(string reason, IReadOnlyList<string>? categories = null) => new(false, reason, categories);
}

/// <summary>Judges the prompt (the whole conversation) before anything is forwarded.</summary>
public interface IPromptModerator
{
    /// <summary>Checks the request's prompt or messages.</summary>
    ValueTask<ModerationDecision> CheckPromptAsync(ModerationContext context, CancellationToken cancellationToken);
}

/// <summary>Judges what the model generated, whole or as a stream.</summary>
public interface IResponseModerator
{
    /// <summary>Checks a complete, non-streamed result: its text and every tool call, in the context of the conversation.</summary>
    ValueTask<ModerationDecision> CheckResponseAsync(ModerationContext context, GenerationResult result, CancellationToken cancellationToken);

    /// <summary>How one stream is held and judged; <see cref="StreamModeration.None"/> when it is not checked. The caller
    /// disposes it when the stream ends, however it ends.</summary>
    StreamModeration BeginStream(ModerationContext context);
}
