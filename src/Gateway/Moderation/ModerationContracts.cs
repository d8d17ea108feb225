using Gateway.Generation;
using Gateway.Upstreams;
using Microsoft.AspNetCore.Http;

namespace Gateway.Moderation;

/// <summary>What a moderation step sees about the request it judges.</summary>
public sealed record ModerationContext(HttpContext HttpContext, GenerationRequest Request);

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
    /// <summary>Checks a complete, non-streamed result.</summary>
    ValueTask<ModerationDecision> CheckResponseAsync(ModerationContext context, GenerationResult result, CancellationToken cancellationToken);

    /// <summary>Starts judging one stream.</summary>
    IStreamModerator BeginStream(ModerationContext context);
}

/// <summary>What to do with the stream events held so far.</summary>
public enum StreamAction
{
    /// <summary>Send every held event to the client.</summary>
    Release,

    /// <summary>Keep holding: more text is needed before judging.</summary>
    Hold,

    /// <summary>Drop every held event and end the stream with a moderation error.</summary>
    Block,
}

/// <summary>A stream moderator's answer for the events held so far.</summary>
public readonly record struct StreamVerdict(StreamAction Action, ModerationDecision? Decision = null)
{
    /// <summary>Release everything held.</summary>
    public static StreamVerdict Release { get; } = new(StreamAction.Release);

    /// <summary>Hold everything until more text arrives.</summary>
    public static StreamVerdict Hold { get; } = new(StreamAction.Hold);
}

/// <summary>Judges one stream incrementally; the proxy holds events until it says release.</summary>
public interface IStreamModerator : IAsyncDisposable
{
    /// <summary>Called with each event's new text (possibly empty).</summary>
    ValueTask<StreamVerdict> OnTextAsync(string delta, CancellationToken cancellationToken);

    /// <summary>Called once when the upstream stream has ended; <see cref="StreamAction.Hold"/> is treated as release.</summary>
    ValueTask<StreamVerdict> OnCompleteAsync(CancellationToken cancellationToken);
}
