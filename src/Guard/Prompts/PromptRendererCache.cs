using Guard.Conversations;

namespace Guard.Prompts;

/// <summary>
/// An engine's prompt renderers: its own taxonomy's, and one per custom taxonomy a conversation brings, created on
/// first use and kept for the most recently used few. Thread-safe.
/// </summary>
internal sealed class PromptRendererCache
{
    /// <summary>Custom-taxonomy renderers kept; a renderer is small, and policies rarely have more taxonomies than this.</summary>
    public const int DefaultCapacity = 32;

    private readonly Lock _lock = new();
    private readonly Dictionary<GuardTaxonomy, LinkedListNode<LlamaGuardPromptRenderer>> _custom = [];
    private readonly LinkedList<LlamaGuardPromptRenderer> _recent = new();
    private readonly int _capacity;

    /// <summary>Creates the cache around an engine's own renderer.</summary>
    /// <param name="renderer">The renderer of the engine's own taxonomy.</param>
    /// <param name="capacity">Most custom-taxonomy renderers kept.</param>
    public PromptRendererCache(LlamaGuardPromptRenderer renderer, int capacity = DefaultCapacity)
    {
        ArgumentNullException.ThrowIfNull(renderer);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Default = renderer;
        _capacity = capacity;
    }

    /// <summary>The renderer of the engine's own taxonomy.</summary>
    public LlamaGuardPromptRenderer Default { get; }

    /// <summary>The number of custom-taxonomy renderers held.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _custom.Count;
            }
        }
    }

    /// <summary>The renderer for a conversation's taxonomy: <see cref="Default"/> for none or the engine's own.</summary>
    /// <param name="taxonomy">The conversation's taxonomy.</param>
    /// <exception cref="ArgumentException">The taxonomy was built for another family.</exception>
    public LlamaGuardPromptRenderer Get(GuardTaxonomy? taxonomy)
    {
        if (taxonomy is null || taxonomy.Equals(Default.Taxonomy))
        {
            return Default;
        }

        CheckFamily(taxonomy);
        lock (_lock)
        {
            if (_custom.TryGetValue(taxonomy, out var node))
            {
                _recent.Remove(node);
                _recent.AddFirst(node);
                return node.Value;
            }

            var renderer = new LlamaGuardPromptRenderer(Default.Family, taxonomy);
            _custom[taxonomy] = _recent.AddFirst(renderer);
            if (_custom.Count > _capacity)
            {
                var oldest = _recent.Last!;
                _recent.RemoveLast();
                _custom.Remove(oldest.Value.Taxonomy);
            }

            return renderer;
        }
    }

    /// <summary>Throws when a taxonomy was built for another family than the engine's.</summary>
    /// <param name="taxonomy">The conversation's taxonomy.</param>
    /// <param name="paramName">The argument that holds the conversation.</param>
    /// <exception cref="ArgumentException">The taxonomy was built for another family.</exception>
    public void CheckFamily(GuardTaxonomy? taxonomy, string paramName = "conversation")
    {
        if (taxonomy?.Family is { } family && family != Default.Family)
        {
            throw new ArgumentException(
                $"The conversation's taxonomy was built for {family}, but the engine renders {Default.Family} prompts; "
                + $"build the taxonomy for the engine's family (GuardTaxonomy.FromConfig({Default.Family}, ...)).",
                paramName);
        }
    }

    /// <summary>Checks every conversation's taxonomy before any is classified.</summary>
    /// <param name="conversations">The conversations.</param>
    /// <exception cref="ArgumentException">A conversation is null or its taxonomy was built for another family.</exception>
    public void CheckAll(IReadOnlyList<GuardConversation> conversations)
    {
        for (var i = 0; i < conversations.Count; i++)
        {
            var conversation = conversations[i] ?? throw new ArgumentException($"conversations[{i}] is null.", nameof(conversations));
            CheckFamily(conversation.Taxonomy, nameof(conversations));
        }
    }
}
