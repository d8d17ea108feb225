namespace Gateway.Sse;

/// <summary>One Server-Sent Event, as read by <see cref="SseReader"/> or written by <see cref="SseWriter"/>.</summary>
/// <remarks><see cref="Id"/> and <see cref="Retry"/> carry the <c>id</c> and <c>retry</c> fields that appeared in this
/// event's own block (null when absent), so a relay reproduces the upstream wire faithfully; the spec's persistent
/// "last event ID" and reconnection time are on <see cref="SseReader.LastEventId"/> and
/// <see cref="SseReader.ReconnectionTime"/>.</remarks>
public readonly record struct SseEvent
{
    /// <summary>The event type used when <see cref="EventType"/> is null.</summary>
    public const string DefaultEventType = "message";

    /// <summary>The data payload of the terminal event of Workers AI and OpenAI token streams.</summary>
    public const string DoneData = "[DONE]";

    private readonly string? _data;

    /// <summary>Creates an event.</summary>
    /// <param name="data">The payload; lines are separated by <c>\n</c>.</param>
    /// <param name="eventType">The <c>event</c> field, or null for the default type <c>message</c>.</param>
    /// <param name="id">The <c>id</c> field, or null for none.</param>
    /// <param name="retry">The <c>retry</c> field in milliseconds, or null for none.</param>
    public SseEvent(string data, string? eventType = null, string? id = null, int? retry = null)
    {
        _data = data;
        EventType = eventType;
        Id = id;
        Retry = retry;
    }

    /// <summary>The <c>event</c> field; null means the default type <c>message</c>.</summary>
    public string? EventType { get; init; }

    /// <summary>The payload: the event's <c>data</c> lines joined with <c>\n</c>.</summary>
    public string Data
    {
        get => _data ?? string.Empty;
        init => _data = value;
    }

    /// <summary>The <c>id</c> field of this event's block, or null when it had none.</summary>
    public string? Id { get; init; }

    /// <summary>The <c>retry</c> field of this event's block in milliseconds, or null when it had none.</summary>
    public int? Retry { get; init; }

    /// <summary>Whether the payload is <c>[DONE]</c>, the end marker of Workers AI and OpenAI streams.</summary>
    public bool IsDone => string.Equals(_data, DoneData, StringComparison.Ordinal);
}
