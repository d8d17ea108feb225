namespace Guard.Engines;

/// <summary>
/// An engine that can keep a streamed response's work between its checks: a stream session judges each window of one
/// stream and reuses what the previous windows computed, so a window costs about its new text instead of the whole
/// response so far (docs/adr/012-stream-sessions.md). Optional: the gateway calls
/// <see cref="IGuardEngine.ClassifyAsync"/> on engines without it.
/// </summary>
public interface IGuardStreamEngine
{
    /// <summary>Opens a session for one stream; dispose it when the stream ends, however it ends.</summary>
    /// <returns>The session, or null when the engine is configured to keep none (plain calls then). Opening never fails
    /// for lack of room: a session whose work was dropped runs its next window as a plain call would.</returns>
    IGuardStreamSession? OpenStream();
}
