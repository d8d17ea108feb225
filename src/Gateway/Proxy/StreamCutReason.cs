namespace Gateway.Proxy;

/// <summary>Why a stream to a client was ended with an error instead of <c>[DONE]</c> (docs/adr/005); logged with
/// each cut.</summary>
internal enum StreamCutReason
{
    /// <summary>The upstream answered a stream request with something other than <c>text/event-stream</c>.</summary>
    NotEventStream,

    /// <summary>The upstream sent no bytes for longer than <c>StreamIdleTimeout</c>.</summary>
    Idle,

    /// <summary>The connection to the upstream failed (reset, aborted).</summary>
    UpstreamFailed,

    /// <summary>An event did not follow the upstream's protocol, or reported an error.</summary>
    MalformedEvent,

    /// <summary>An event was larger than <c>MaxStreamEventBytes</c>.</summary>
    EventTooLarge,

    /// <summary>The body ended in the middle of an event.</summary>
    TruncatedEvent,

    /// <summary>The body ended cleanly with no event at all.</summary>
    NoEvents,

    /// <summary>The body ended cleanly between events, without the protocol's end.</summary>
    NoEndMarker,

    /// <summary>Response moderation blocked the stream.</summary>
    Moderated,
}
