using Guard.Conversations;
using Policies;
using Policies.Evaluation;
using Policies.Model;

namespace Gateway.Moderation;

/// <summary>What a streamed response has generated so far, as the guard judges it.</summary>
/// <param name="Text">The generated text so far.</param>
/// <param name="ToolCalls">The tool calls so far; the last may still be growing.</param>
public sealed record ResponseSnapshot(string Text, IReadOnlyList<GuardToolCall> ToolCalls);

/// <summary>How one streamed response is held and judged: the policy's streaming settings, and the check that judges
/// the response so far in the context of the conversation (docs/policies.md#streaming-modes). Disposed when the stream
/// ends, however it ends: that releases the guard's stream session, if the check has one.</summary>
public sealed class StreamModeration : IDisposable
{
    private readonly Func<ResponseSnapshot, CancellationToken, Task<ModerationDecision>>? _check;
    private readonly Func<GuardFailureKind, ModerationDecision>? _fail;
    private readonly Func<string, int>? _countTokens;
    private readonly IDisposable? _session;

    private StreamModeration()
    {
    }

    /// <summary>Creates the plan for a checked stream.</summary>
    /// <param name="policy">The policy's name.</param>
    /// <param name="settings">Mode, window, hold-back and hold bounds.</param>
    /// <param name="check">Judges a snapshot; it applies the role's timeout and fail mode itself.</param>
    /// <param name="fail">The role's fail mode for a failure found by the filter (a hold bound passed).</param>
    /// <param name="countTokens">Counts tokens for <see cref="WindowUnit.Tokens"/>; null estimates them.</param>
    /// <param name="session">The guard's stream session the checks use (docs/adr/012-stream-sessions.md), disposed with
    /// the plan; null when the checks are plain calls.</param>
    public StreamModeration(
        string policy,
        StreamingSettings settings,
        Func<ResponseSnapshot, CancellationToken, Task<ModerationDecision>> check,
        Func<GuardFailureKind, ModerationDecision> fail,
        Func<string, int>? countTokens = null,
        IDisposable? session = null)
    {
        Policy = policy;
        Settings = settings;
        _check = check;
        _fail = fail;
        _countTokens = countTokens;
        _session = session;
    }

    /// <summary>The stream is not checked: events are relayed as they arrive.</summary>
    public static StreamModeration None { get; } = new();

    /// <summary>The policy's name; null when not checked.</summary>
    public string? Policy { get; }

    /// <summary>The streaming settings; null when not checked.</summary>
    public StreamingSettings? Settings { get; }

    /// <summary>Judges the response so far.</summary>
    public Task<ModerationDecision> CheckAsync(ResponseSnapshot snapshot, CancellationToken cancellationToken) =>
        (_check ?? throw new InvalidOperationException("The stream is not checked."))(snapshot, cancellationToken);

    /// <summary>The fail mode's decision for a failure the filter found.</summary>
    public ModerationDecision Fail(GuardFailureKind failure) =>
        (_fail ?? throw new InvalidOperationException("The stream is not checked."))(failure);

    /// <summary>The size of a piece of text in the window's unit: UTF-16 characters, or tokens (counted with the
    /// guard family's tokenizer when one is loaded, else estimated at four characters each, rounded up).</summary>
    public int Units(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Settings?.Unit != WindowUnit.Tokens)
        {
            return text.Length;
        }
        return _countTokens is { } count ? count(text) : (text.Length + 3) / 4;
    }

    /// <summary>Releases the guard's stream session; checks still running finish as plain calls would.</summary>
    public void Dispose() => _session?.Dispose();
}
