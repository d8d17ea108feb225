using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;
using Guard.Verdicts;

namespace Gateway.Tests.Guarding;

/// <summary>A guard engine that answers every conversation with one output and counts its calls and disposals; not a model.</summary>
internal sealed class StubGuardEngine(string name, GuardFamily family = GuardFamily.LlamaGuard1, string output = "safe") : IGuardEngine, IDisposable
{
    private int _calls;
    private int _disposals;

    public string Name => name;

    public string Model => "stub-" + name;

    public GuardFamily Family => family;

    public GuardTaxonomy Taxonomy { get; } = GuardTaxonomy.ForFamily(family);

    public GuardEngineHealth Health { get; set; } = new(GuardHealthStatus.Healthy, 0, null, null, null);

    public int Calls => Volatile.Read(ref _calls);

    public int Disposals => Volatile.Read(ref _disposals);

    public ValueTask<GuardVerdict> ClassifyAsync(GuardConversation conversation, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        var taxonomy = conversation.Taxonomy ?? Taxonomy;
        return ValueTask.FromResult(GuardVerdict.FromParsed(GuardVerdictParser.Parse(output, taxonomy), Name, Model, TimeSpan.Zero, null, truncated: false));
    }

    public async ValueTask<IReadOnlyList<GuardVerdict>> ClassifyBatchAsync(IReadOnlyList<GuardConversation> conversations, CancellationToken cancellationToken)
    {
        var verdicts = new List<GuardVerdict>();
        foreach (var conversation in conversations)
        {
            verdicts.Add(await ClassifyAsync(conversation, cancellationToken));
        }
        return verdicts;
    }

    public ValueTask<GuardCompletion> CompleteAsync(string prompt, int maxTokens, CancellationToken cancellationToken) =>
        ValueTask.FromResult(new GuardCompletion(output, null));

    public void Dispose() => Interlocked.Increment(ref _disposals);
}
