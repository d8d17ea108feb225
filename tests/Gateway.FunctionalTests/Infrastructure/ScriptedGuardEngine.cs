using System.Diagnostics;
using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;
using Guard.Verdicts;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>One scripted answer: when the text contains <see cref="Contains"/> (ordinal; empty matches anything),
/// the engine answers <see cref="Output"/> with <see cref="UnsafeProbability"/>, or throws <see cref="Failure"/>.</summary>
public sealed record ScriptedGuardRule(string Contains, string? Output, double? UnsafeProbability, GuardEngineException? Failure);

/// <summary>What the engine's <see cref="IGuardEngine.CompleteAsync"/> was called with.</summary>
public sealed record ScriptedCompletionCall(string Prompt, int MaxTokens);

/// <summary>
/// A test double for <see cref="IGuardEngine"/>, not a model: its answers are scripted per test. Each rule maps a
/// substring of the judged text (the last turn's content for a classification, the whole prompt for a raw
/// completion) to a raw model output such as <c>unsafe\nO3</c>, <c>safe</c> or garbage, and an optional unsafe
/// probability; the first matching rule wins, otherwise <see cref="DefaultOutput"/>. Verdicts are built the way a
/// real engine builds them (<see cref="GuardVerdictParser"/> and <see cref="GuardVerdict.FromParsed"/> against the
/// conversation's own taxonomy, or else the family's real one), and each classified conversation is rendered with the
/// real <see cref="LlamaGuardPromptRenderer"/> and that same taxonomy, so tests can assert what a real engine would
/// have sent to the model.
/// Thread-safe.
/// </summary>
public sealed class ScriptedGuardEngine : IGuardEngine
{
    /// <summary>The model id the gateway serves Llama Guard 1 as.</summary>
    public const string LlamaGuard7bAwq = "@hf/thebloke/llamaguard-7b-awq";

    private readonly Lock _lock = new();
    private readonly List<ScriptedGuardRule> _rules = [];
    private readonly List<GuardConversation> _conversations = [];
    private readonly List<RenderedPrompt> _rendered = [];
    private readonly List<ScriptedCompletionCall> _completions = [];
    private readonly List<int> _batchSizes = [];
    private readonly GuardHealthTracker _health = new(TimeProvider.System);
    private int _cancellations;

    /// <summary>Creates an engine for a family (Llama Guard 1 by default) and its default taxonomy.</summary>
    public ScriptedGuardEngine(GuardFamily family = GuardFamily.LlamaGuard1, string model = LlamaGuard7bAwq)
    {
        Family = family;
        Model = model;
        Taxonomy = GuardTaxonomy.ForFamily(family);
        Renderer = new LlamaGuardPromptRenderer(family, Taxonomy);
    }

    /// <inheritdoc />
    public string Name => "scripted";

    /// <inheritdoc />
    public string Model { get; }

    /// <inheritdoc />
    public GuardFamily Family { get; }

    /// <inheritdoc />
    public GuardTaxonomy Taxonomy { get; }

    /// <inheritdoc />
    public GuardEngineHealth Health => _health.Snapshot;

    /// <summary>The real prompt renderer for <see cref="Family"/> and <see cref="Taxonomy"/> (a conversation with its own taxonomy gets its own).</summary>
    public LlamaGuardPromptRenderer Renderer { get; }

    /// <summary>The output when no rule matches.</summary>
    public string DefaultOutput { get; set; } = "safe";

    /// <summary>The unsafe probability when no rule matches.</summary>
    public double? DefaultUnsafeProbability { get; set; }

    /// <summary>How long every call waits before answering (honouring cancellation).</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>The conversations classified, in order (batch items one by one).</summary>
    public IReadOnlyList<GuardConversation> Conversations
    {
        get
        {
            lock (_lock)
            {
                return [.. _conversations];
            }
        }
    }

    /// <summary>The prompt a real engine would have sent for each classified conversation, in order.</summary>
    public IReadOnlyList<RenderedPrompt> RenderedPrompts
    {
        get
        {
            lock (_lock)
            {
                return [.. _rendered];
            }
        }
    }

    /// <summary>The raw completions asked for, in order.</summary>
    public IReadOnlyList<ScriptedCompletionCall> Completions
    {
        get
        {
            lock (_lock)
            {
                return [.. _completions];
            }
        }
    }

    /// <summary>The size of each <see cref="ClassifyBatchAsync"/> call, in order.</summary>
    public IReadOnlyList<int> BatchSizes
    {
        get
        {
            lock (_lock)
            {
                return [.. _batchSizes];
            }
        }
    }

    /// <summary>How many calls ended because their cancellation token fired during <see cref="Delay"/>.</summary>
    public int Cancellations => Volatile.Read(ref _cancellations);

    /// <summary>Answers <paramref name="output"/> when the judged text contains <paramref name="contains"/>.</summary>
    public ScriptedGuardEngine Answer(string contains, string output, double? unsafeProbability = null)
    {
        ArgumentNullException.ThrowIfNull(contains);
        ArgumentNullException.ThrowIfNull(output);
        lock (_lock)
        {
            _rules.Add(new ScriptedGuardRule(contains, output, unsafeProbability, null));
        }
        return this;
    }

    /// <summary>Throws a <see cref="GuardEngineException"/> when the judged text contains <paramref name="contains"/>
    /// (empty: every call).</summary>
    public ScriptedGuardEngine Fail(string contains, string message, bool transient)
    {
        ArgumentNullException.ThrowIfNull(contains);
        lock (_lock)
        {
            _rules.Add(new ScriptedGuardRule(contains, null, null, new GuardEngineException(message, transient)));
        }
        return this;
    }

    /// <inheritdoc />
    public async ValueTask<GuardVerdict> ClassifyAsync(GuardConversation conversation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var started = Stopwatch.GetTimestamp();
        var taxonomy = conversation.Taxonomy ?? Taxonomy;
        if (taxonomy.Family is { } family && family != Family)
        {
            throw new ArgumentException($"The conversation's taxonomy was built for {family}, but the engine renders {Family} prompts.", nameof(conversation));
        }
        var renderer = ReferenceEquals(taxonomy, Taxonomy) ? Renderer : new LlamaGuardPromptRenderer(Family, taxonomy);
        var rendered = renderer.Render(conversation);
        lock (_lock)
        {
            _conversations.Add(conversation);
            _rendered.Add(rendered);
        }
        var (output, probability) = await AnswerAsync(conversation.Turns[^1].Content, cancellationToken);
        var parsed = GuardVerdictParser.Parse(output, taxonomy);
        return GuardVerdict.FromParsed(parsed, Name, Model, Stopwatch.GetElapsedTime(started), probability, rendered.Truncated);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<GuardVerdict>> ClassifyBatchAsync(IReadOnlyList<GuardConversation> conversations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversations);
        lock (_lock)
        {
            _batchSizes.Add(conversations.Count);
        }
        var verdicts = new List<GuardVerdict>(conversations.Count);
        foreach (var conversation in conversations)
        {
            verdicts.Add(await ClassifyAsync(conversation, cancellationToken));
        }
        return verdicts;
    }

    /// <inheritdoc />
    public async ValueTask<GuardCompletion> CompleteAsync(string prompt, int maxTokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        lock (_lock)
        {
            _completions.Add(new ScriptedCompletionCall(prompt, maxTokens));
        }
        var (output, probability) = await AnswerAsync(prompt, cancellationToken);
        // Whitespace-separated words stand in for tokens, so usage is deterministic.
        return new GuardCompletion(output, probability, CountWords(prompt), Math.Max(1, CountWords(output)));
    }

    private static int CountWords(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    private async Task<(string Output, double? Probability)> AnswerAsync(string text, CancellationToken cancellationToken)
    {
        if (Delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(Delay, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref _cancellations);
                _health.Failure("cancelled");
                throw;
            }
        }
        ScriptedGuardRule? rule;
        lock (_lock)
        {
            rule = _rules.FirstOrDefault(r => text.Contains(r.Contains, StringComparison.Ordinal));
        }
        if (rule?.Failure is { } failure)
        {
            _health.Failure(failure.Message);
            // A fresh exception per call, so concurrent callers never share one stack trace.
            throw new GuardEngineException(failure.Message, failure.Transient);
        }
        _health.Success();
        return rule is null ? (DefaultOutput, DefaultUnsafeProbability) : (rule.Output!, rule.UnsafeProbability);
    }
}
