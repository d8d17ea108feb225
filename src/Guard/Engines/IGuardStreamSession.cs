using Guard.Conversations;
using Guard.Verdicts;

namespace Guard.Engines;

/// <summary>
/// One stream's checks on an <see cref="IGuardStreamEngine"/>. Each call judges a conversation whose response grows from
/// call to call; the verdict is the one <see cref="IGuardEngine.ClassifyAsync"/> gives for the same conversation (within
/// rounding), whatever the session kept. Thread-safe: calls are serialized.
/// </summary>
public interface IGuardStreamSession : IDisposable
{
    /// <summary>Classifies a conversation, continuing the session's earlier work where the prompt still matches it.</summary>
    /// <param name="conversation">The conversation; usually the previous call's with a longer last turn.</param>
    /// <param name="cancellationToken">Ends the call; the session stays usable (it drops what the call was building).</param>
    /// <returns>The verdict.</returns>
    ValueTask<GuardVerdict> ClassifyAsync(GuardConversation conversation, CancellationToken cancellationToken);
}
