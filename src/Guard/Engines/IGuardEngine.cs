using Guard.Conversations;
using Guard.Prompts;
using Guard.Verdicts;

namespace Guard.Engines;

/// <summary>A Llama Guard classifier: local (ONNX Runtime) or remote (Workers AI, OpenAI-compatible server).</summary>
/// <remarks>Implementations are thread-safe and honour cancellation. Failures surface as
/// <see cref="GuardEngineException"/>, which the caller's fail-open/fail-closed policy handles.</remarks>
public interface IGuardEngine
{
    /// <summary>The engine's name, reported on every verdict (for example <c>remote-workers-ai</c>).</summary>
    string Name { get; }

    /// <summary>The Llama Guard model id the engine runs.</summary>
    string Model { get; }

    /// <summary>The model's prompt format.</summary>
    GuardFamily Family { get; }

    /// <summary>The categories the engine asks about.</summary>
    GuardTaxonomy Taxonomy { get; }

    /// <summary>The engine's health, from its recent calls.</summary>
    GuardEngineHealth Health { get; }

    /// <summary>
    /// A stable identity of the engine and its model for verdict cache keys: the same string, in this and later
    /// processes, exactly when the same prompt text gets the same verdict. It covers the model (for the ONNX engine, the
    /// model digest recorded in the manifest), the tokenizer and the settings that change an answer (context window,
    /// answer tokens, log-probabilities), never credentials; the prompt format and taxonomy are covered by
    /// <see cref="GetPromptFormatDigest"/>. The default, for engines that know no better, is
    /// <c>Name|Model|Family</c>.
    /// </summary>
    string CacheIdentity => $"{Name}|{Model}|{Family}";

    /// <summary>
    /// A digest of the fixed parts of the prompt the engine renders for <paramref name="role"/> with
    /// <paramref name="taxonomy"/>: everything in the prompt except the conversation, and the category table verdicts
    /// are resolved against (<see cref="LlamaGuardPromptRenderer.GetFormatDigest(GuardRole)"/>). Equal taxonomies give
    /// equal digests in every engine of the same family; computed once per taxonomy and role, then looked up.
    /// </summary>
    /// <param name="taxonomy">The conversation's taxonomy; <see langword="null"/> for the engine's own.</param>
    /// <param name="role">The role being classified.</param>
    /// <returns>64 lowercase hex digits.</returns>
    /// <exception cref="ArgumentException">The taxonomy was built for another family.</exception>
    string GetPromptFormatDigest(GuardTaxonomy? taxonomy, GuardRole role) =>
        LlamaGuardPromptRenderer.GetFormatDigest(Family, taxonomy ?? Taxonomy, role);

    /// <summary>Classifies a conversation; the role of its last turn decides whether the prompt or the response is judged.</summary>
    ValueTask<GuardVerdict> ClassifyAsync(GuardConversation conversation, CancellationToken cancellationToken);

    /// <summary>Classifies several conversations; engines that batch do so here.</summary>
    ValueTask<IReadOnlyList<GuardVerdict>> ClassifyBatchAsync(IReadOnlyList<GuardConversation> conversations, CancellationToken cancellationToken);

    /// <summary>Runs the model on a prompt that is already in its format (the served model's <c>raw: true</c>).</summary>
    ValueTask<GuardCompletion> CompleteAsync(string prompt, int maxTokens, CancellationToken cancellationToken);
}

/// <summary>What the model generated for a prompt.</summary>
/// <param name="Text">The generated text, for example <c>safe</c> or <c>unsafe\nO3</c>.</param>
/// <param name="UnsafeProbability">The probability of <c>unsafe</c> at the verdict position, when the engine can give it.</param>
/// <param name="PromptTokens">Prompt tokens, when known.</param>
/// <param name="CompletionTokens">Generated tokens, when known.</param>
public sealed record GuardCompletion(string Text, double? UnsafeProbability, int? PromptTokens = null, int? CompletionTokens = null);

/// <summary>The guard engine could not produce a verdict (timeout, unreachable, malformed reply, inference error).</summary>
public sealed class GuardEngineException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GuardEngineException(string message, bool transient, Exception? inner = null)
        : base(message, inner) => Transient = transient;

    /// <summary>Creates a non-transient failure.</summary>
    public GuardEngineException(string message)
        : this(message, transient: false)
    {
    }

    /// <summary>Creates a non-transient failure with its cause.</summary>
    public GuardEngineException(string message, Exception inner)
        : this(message, transient: false, inner)
    {
    }

    /// <summary>Creates an exception with no message.</summary>
    public GuardEngineException()
        : this("The guard engine failed.", transient: false)
    {
    }

    /// <summary>Whether retrying the same call may succeed.</summary>
    public bool Transient { get; }
}
