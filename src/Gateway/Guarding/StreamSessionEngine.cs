using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;
using Guard.Verdicts;

namespace Gateway.Guarding;

/// <summary>An engine as one stream sees it: everything is the engine's, except that classifications go through the
/// stream's session (docs/adr/012-stream-sessions.md). The verdict cache, spans and audit see the engine itself: same
/// name, model, cache identity and prompt format.</summary>
/// <param name="engine">The engine the session was opened on.</param>
/// <param name="session">The stream's session.</param>
internal sealed class StreamSessionEngine(IGuardEngine engine, IGuardStreamSession session) : IGuardEngine
{
    public string Name => engine.Name;

    public string Model => engine.Model;

    public GuardFamily Family => engine.Family;

    public GuardTaxonomy Taxonomy => engine.Taxonomy;

    public GuardEngineHealth Health => engine.Health;

    public string CacheIdentity => engine.CacheIdentity;

    public string GetPromptFormatDigest(GuardTaxonomy? taxonomy, GuardRole role) => engine.GetPromptFormatDigest(taxonomy, role);

    public ValueTask<GuardVerdict> ClassifyAsync(GuardConversation conversation, CancellationToken cancellationToken) =>
        session.ClassifyAsync(conversation, cancellationToken);

    public ValueTask<IReadOnlyList<GuardVerdict>> ClassifyBatchAsync(IReadOnlyList<GuardConversation> conversations, CancellationToken cancellationToken) =>
        engine.ClassifyBatchAsync(conversations, cancellationToken);

    public ValueTask<GuardCompletion> CompleteAsync(string prompt, int maxTokens, CancellationToken cancellationToken) =>
        engine.CompleteAsync(prompt, maxTokens, cancellationToken);
}
