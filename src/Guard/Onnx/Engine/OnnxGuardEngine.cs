using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;
using Guard.Verdicts;
using Microsoft.ML.OnnxRuntime;

namespace Guard.Onnx.Engine;

/// <summary>
/// Llama Guard on ONNX Runtime in the gateway's process: CPU by default, CUDA when configured. One forward pass gives
/// the unsafe probability at the verdict position; categories are decoded greedily, with a KV cache, only when the
/// answer is <c>unsafe</c>. The prompt's fixed prefix is computed once per role and reused by every call; a
/// conversation that brings its own taxonomy gets its own prefix, computed on first use and kept for the most recently
/// used few (<see cref="OnnxGuardEngineOptions.CustomPrefixCacheSize"/>).
/// </summary>
/// <remarks>
/// Thread-safe: one session serves all calls, at most <see cref="OnnxGuardEngineOptions.MaxConcurrency"/> at once. A
/// streamed response's windows can share one KV cache through <see cref="OpenStream"/> (docs/adr/012-stream-sessions.md).
/// Start-up problems throw <see cref="OnnxModelLoadException"/>; inference problems surface as
/// <see cref="GuardEngineException"/>. Design and the batching path: docs/adr/006-onnx-engine-sessions-and-batching.md.
/// </remarks>
public sealed partial class OnnxGuardEngine : IGuardEngine, IDisposable
{
    /// <summary>The engine name reported on verdicts unless it is given one.</summary>
    public const string EngineName = "onnx";

    // Tokens kept free between the truncation budget and the context: the prefix, conversation and suffix are counted
    // separately, and joining them can change a token or two at the boundaries.
    private const int BoundarySlack = 4;

    private readonly ModelDirectory _model;
    private readonly DecoderSession _decoder;
    private readonly KvCache _empty;
    private readonly PromptEncoder _encoder;
    private readonly GreedyDecoder _generator;
    private readonly BatchDecoder? _batchDecoder;
    private readonly GuardBatcher? _batcher;
    private readonly InferenceThreads _threads;
    private readonly PrefixCache? _prefixes;
    private readonly PromptRendererCache _renderers;
    private readonly GuardHealthTracker _health;
    private readonly int _maxCategoryTokens;
    private readonly StreamDecoder _streamDecoder;
    private readonly StreamSessionStore _streams;

    [SuppressMessage("Usage", "CA2213:Disposable fields should be disposed", Justification = "Waiters must wake up after Dispose to see it; a disposed SemaphoreSlim would strand them. It holds no wait handle.")]
    private readonly SemaphoreSlim _gate;
    private readonly int _maxConcurrency;
    private long _calls;
    private long _failures;
    private long _cancelled;
    private long _prefixHits;
    private long _prefixMisses;
    private long _forwardPasses;
    private long _customWholeRuns;
    private int _inFlight;
    private int _peakInFlight;
    private volatile bool _disposed;

    private OnnxGuardEngine(
        ModelDirectory model,
        DecoderSession decoder,
        KvCache empty,
        PromptEncoder encoder,
        PrefixCache? prefixes,
        LlamaGuardPromptRenderer renderer,
        OnnxGuardEngineOptions options,
        int contextTokens,
        IReadOnlyList<string> warnings,
        string name,
        string cacheIdentity,
        TimeProvider time)
    {
        Name = name;
        CacheIdentity = cacheIdentity;
        _model = model;
        _decoder = decoder;
        _empty = empty;
        _encoder = encoder;
        _prefixes = prefixes;
        _renderers = new PromptRendererCache(renderer);
        _generator = new GreedyDecoder(decoder, empty, encoder);
        _health = new GuardHealthTracker(time);
        _maxCategoryTokens = options.MaxCategoryTokens;
        _maxConcurrency = options.MaxConcurrency;
        _gate = new SemaphoreSlim(options.MaxConcurrency, options.MaxConcurrency);
        _streamDecoder = new StreamDecoder(decoder, empty, encoder);
        _streams = new StreamSessionStore(options.MaxStreamSessions, options.StreamSessionIdleTimeout, time);
        _threads = new InferenceThreads(options.MaxConcurrency, name);
        var batchDecoder = new BatchDecoder(decoder, encoder);
        if (options.MaxBatchSize > 1 && batchDecoder.CanBatch(prefixReuse: prefixes is not null))
        {
            _batchDecoder = batchDecoder;
            _batcher = new GuardBatcher(_gate, _threads, RunBatch, options.MaxBatchSize, options.BatchWindow, options.MaxQueuedCalls, time);
        }
        ContextTokens = contextTokens;
        Warnings = warnings;
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public string Model => _model.Manifest.ModelId;

    /// <inheritdoc />
    public GuardFamily Family => _model.Manifest.Family;

    /// <inheritdoc />
    public GuardTaxonomy Taxonomy => _renderers.Default.Taxonomy;

    /// <inheritdoc />
    public GuardEngineHealth Health => _health.Snapshot;

    /// <summary>
    /// The engine's identity for verdict cache keys, fixed at start-up:
    /// <c>onnx|family=...|model=...|dtype=...|weights=sha256:...|tokenizer=sha256:...|context=...|answer_tokens=...</c>.
    /// <c>weights</c> is the model digest the builder recorded in the manifest (<see cref="Models.ModelManifest.WeightsSha256"/>);
    /// for a manifest without one, or whose listed files now have other lengths, it is
    /// <c>files-sha256:</c> over the model directory's file names, sizes and modification times, and
    /// <see cref="Warnings"/> says so. <c>tokenizer</c> is a digest of the tokenizer files loaded. The configured engine
    /// name, execution provider, threads and prefix reuse are not part of it (they change nothing but rounding).
    /// </summary>
    public string CacheIdentity { get; }

    /// <inheritdoc />
    /// <remarks>The engine's own taxonomy is a field read; another one a lock-free lookup in
    /// <see cref="LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily, GuardTaxonomy?, GuardRole)"/>'s cache.</remarks>
    public string GetPromptFormatDigest(GuardTaxonomy? taxonomy, GuardRole role) =>
        taxonomy is null || ReferenceEquals(taxonomy, _renderers.Default.Taxonomy)
            ? _renderers.Default.GetFormatDigest(role)
            : LlamaGuardPromptRenderer.GetFormatDigest(Family, taxonomy, role);

    /// <summary>Start-up findings the host should log as warnings: a CUDA to CPU fallback, random weights, an EOS mismatch,
    /// a manifest without a model digest, batching ignored for a fused graph.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The execution provider the model runs on (<c>CPUExecutionProvider</c> or <c>CUDAExecutionProvider</c>).</summary>
    public string ExecutionProvider => _decoder.ProviderName;

    /// <summary>The context window: prompt and answer tokens.</summary>
    public int ContextTokens { get; }

    /// <summary>Whether calls start from the cached prompt prefix.</summary>
    public bool PrefixReuse => _prefixes is not null;

    /// <summary>The model directory.</summary>
    public string ModelDirectory => _model.Path;

    /// <summary>The counters since start-up.</summary>
    public OnnxGuardEngineStatistics Statistics => new(
        Interlocked.Read(ref _calls),
        Interlocked.Read(ref _failures),
        Interlocked.Read(ref _cancelled),
        Interlocked.Read(ref _prefixHits),
        Interlocked.Read(ref _prefixMisses),
        Interlocked.Read(ref _forwardPasses),
        Volatile.Read(ref _inFlight),
        Volatile.Read(ref _peakInFlight),
        _prefixes?.CustomBuilds ?? 0,
        _prefixes?.CustomEvictions ?? 0,
        Interlocked.Read(ref _customWholeRuns),
        Interlocked.Read(ref _tokensRun),
        _streams.Opened,
        _streams.OpenSessions,
        _streams.Held,
        Interlocked.Read(ref _streamWindows),
        Interlocked.Read(ref _streamWindowsContinued),
        Interlocked.Read(ref _streamTokensReused),
        Interlocked.Read(ref _streamCompactions),
        _streams.Evictions,
        _streams.Expirations,
        _batcher?.Batches ?? 0,
        _batcher?.BatchedCalls ?? 0);

    /// <summary>Whether concurrent calls are batched (<see cref="OnnxGuardEngineOptions.MaxBatchSize"/> above 1).</summary>
    public bool Batching => _batcher is not null;

    /// <summary>The batcher, when batching.</summary>
    internal GuardBatcher? Batcher => _batcher;

    /// <summary>The decoder session (tests compare it with a cache-less reference).</summary>
    internal DecoderSession Decoder => _decoder;

    /// <summary>The greedy decoder.</summary>
    internal GreedyDecoder Generator => _generator;

    /// <summary>The prompt encoder.</summary>
    internal PromptEncoder Encoder => _encoder;

    /// <summary>An empty batch-1 cache.</summary>
    internal KvCache EmptyCache => _empty;

    /// <summary>The prefix caches; null without prefix reuse.</summary>
    internal PrefixCache? Prefixes => _prefixes;

    /// <summary>The cached prefix of a role for the engine's own taxonomy; null without prefix reuse.</summary>
    /// <param name="role">The role.</param>
    internal PrefixEntry? GetPrefix(GuardRole role) => _prefixes?.Get(role);

    /// <summary>The number of tokens of a role's cached prefix for the engine's own taxonomy, BOS included; 0 without prefix reuse.</summary>
    /// <param name="role">The role.</param>
    public int GetPrefixTokenCount(GuardRole role) => _prefixes?.Get(role).Ids.Length ?? 0;

    /// <summary>Renders (with the conversation's taxonomy, or the engine's) and tokenizes a conversation exactly as
    /// <see cref="ClassifyAsync"/> does (for tools and tests).</summary>
    /// <param name="conversation">The conversation.</param>
    /// <returns>The prompt ids, answer lead-in included, and whether the conversation was truncated.</returns>
    /// <exception cref="ArgumentException">The conversation's taxonomy was built for another family.</exception>
    public (int[] Ids, bool Truncated) EncodeConversation(GuardConversation conversation)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        return Encode(_renderers.Get(conversation.Taxonomy), conversation);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The conversation's taxonomy was built for another family.</exception>
    public async ValueTask<GuardVerdict> ClassifyAsync(GuardConversation conversation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversation);
        var started = Stopwatch.GetTimestamp();
        var renderer = _renderers.Get(conversation.Taxonomy);
        var (ids, truncated) = Encode(renderer, conversation);
        var prefix = ReferenceEquals(renderer, _renderers.Default)
            ? new PrefixSource(_prefixes?.Get(conversation.Role), null, conversation.Role)
            : new PrefixSource(null, renderer, conversation.Role);
        var generation = await InferAsync(ids, prefix, _maxCategoryTokens, StopRule.Verdict, [], cancellationToken).ConfigureAwait(false);
        var text = _encoder.Tokenizer.Decode([.. _encoder.LeadIn, .. generation.Tokens]);
        var parsed = GuardVerdictParser.Parse(text, renderer.Taxonomy);
        return GuardVerdict.FromParsed(parsed, Name, Model, Stopwatch.GetElapsedTime(started), generation.UnsafeProbability, truncated);
    }

    /// <inheritdoc />
    /// <remarks>Each conversation is a call of its own, with its own taxonomy's prompt and prefix; with batching
    /// (<see cref="OnnxGuardEngineOptions.MaxBatchSize"/>) the calls are gathered into shared passes like any concurrent
    /// calls (ADR 006). Every conversation's taxonomy is checked before any runs.</remarks>
    /// <exception cref="ArgumentException">A conversation is null or its taxonomy was built for another family.</exception>
    public async ValueTask<IReadOnlyList<GuardVerdict>> ClassifyBatchAsync(IReadOnlyList<GuardConversation> conversations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(conversations);
        _renderers.CheckAll(conversations);
        var tasks = new Task<GuardVerdict>[conversations.Count];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = ClassifyAsync(conversations[i], cancellationToken).AsTask();
        }

        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The prompt is encoded as plain text after BOS (control-token strings in it stay text, ADR 003), so a Llama Guard
    /// 1 prompt rendered by the gateway yields the same ids as <see cref="ClassifyAsync"/> and reuses the cached prefix.
    /// The probability is read at the first generated position (Llama Guard 3: after a generated <c>\n\n</c>).
    /// </remarks>
    public async ValueTask<GuardCompletion> CompleteAsync(string prompt, int maxTokens, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(prompt);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        var ids = _encoder.EncodeRaw(prompt);
        maxTokens = Math.Min(maxTokens, ContextTokens - ids.Length);
        if (maxTokens < 1)
        {
            throw new GuardEngineException($"{Name}: the prompt has {ids.Length} tokens, which leaves no room in the {ContextTokens}-token context");
        }

        // A raw prompt that is not a rendered guard prompt (or is rendered with another taxonomy) simply runs whole; it is
        // not a prefix miss.
        var prefix = _prefixes?.Entries.FirstOrDefault(e => ids.AsSpan().StartsWith(e.Ids));
        var generation = await InferAsync(ids, prefix, maxTokens, StopRule.Completion, _encoder.LeadIn, cancellationToken).ConfigureAwait(false);
        var text = _encoder.Tokenizer.Decode(generation.Tokens, skipSpecialTokens: true);
        return new GuardCompletion(text, generation.UnsafeProbability, ids.Length, generation.Tokens.Length);
    }

    private (int[] Ids, bool Truncated) Encode(LlamaGuardPromptRenderer renderer, GuardConversation conversation)
    {
        var budget = ContextTokens - _maxCategoryTokens - _encoder.LeadIn.Length - (_encoder.AddsBos ? 1 : 0) - BoundarySlack;
        var prompt = renderer.Render(conversation, budget, text => _encoder.Tokenizer.CountTokens(text));
        var ids = _encoder.Encode(prompt.Segments, withLeadIn: true);
        return (ids, prompt.Truncated);
    }

    /// <summary>Waits for running calls to finish, then releases the session and caches; later calls fail.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _batcher?.Stop(new GuardEngineException($"{Name}: the engine has been shut down", transient: true, new ObjectDisposedException(nameof(OnnxGuardEngine))));
        for (var i = 0; i < _maxConcurrency; i++)
        {
            _gate.Wait();
        }

        _streams.Dispose();
        _threads.Dispose();
        _prefixes?.Dispose();
        _empty.Dispose();
        _decoder.Dispose();
        _gate.Release(_maxConcurrency);
    }
}
