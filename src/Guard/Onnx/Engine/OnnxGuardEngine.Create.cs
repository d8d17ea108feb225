using System.Globalization;
using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;
using Microsoft.ML.OnnxRuntime;

namespace Guard.Onnx.Engine;

/// <summary>Start-up: files, session, signature, tokenizer and prefix cache, each checked with a message that names the file.</summary>
public sealed partial class OnnxGuardEngine
{
    /// <summary>
    /// Loads a model directory and starts the engine: checks the manifest, the graph's inputs and outputs, its
    /// dimensions and the tokenizer against each other, creates the session on the configured provider, runs a trial
    /// pass and (with <see cref="OnnxGuardEngineOptions.PrefixReuse"/>) computes the prefix caches.
    /// </summary>
    /// <param name="options">The options; validated here.</param>
    /// <param name="name">The engine's name on verdicts and errors; null or blank: <see cref="EngineName"/>.</param>
    /// <param name="time">The clock of health, the batching window and stream sessions' idle timeout; null: the system clock.</param>
    /// <returns>The engine; log its <see cref="Warnings"/>.</returns>
    /// <exception cref="OnnxModelLoadException">Invalid options, a missing or inconsistent model file, or unusable CUDA (with <see cref="CudaFallback.Fail"/>); the message names the file or setting and the mismatch.</exception>
    public static OnnxGuardEngine Create(OnnxGuardEngineOptions options, string? name = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new OnnxModelLoadException("Guard:Onnx", string.Join(" ", errors), null);
        }

        var warnings = new List<string>();
        var model = Onnx.Engine.ModelDirectory.Load(options.ModelDirectory, warnings);
        var manifest = model.Manifest;
        var taxonomyErrors = options.Validate(manifest.Family);
        if (taxonomyErrors.Count > 0)
        {
            throw new OnnxModelLoadException("Guard:Onnx:Taxonomy", string.Join(" ", taxonomyErrors), null);
        }

        var context = options.ContextTokens ?? manifest.Config.MaxPositions;
        if (context > manifest.Config.MaxPositions)
        {
            throw new OnnxModelLoadException(
                "Guard:Onnx:ContextTokens",
                $"{context} exceeds the model's {manifest.Config.MaxPositions} positions ({model.ManifestPath}: config.max_position_embeddings)",
                null);
        }

        var identity = Identity(model, context, options.MaxCategoryTokens, warnings);
        var renderer = new LlamaGuardPromptRenderer(manifest.Family, GuardTaxonomy.FromConfig(manifest.Family, options.Taxonomy));
        var encoder = new PromptEncoder(model.Tokenizer, manifest.Family, model.TokenizerPath);
        CheckFixedTextFits(renderer, encoder, context, options.MaxCategoryTokens);

        var created = SessionFactory.Create(model.GraphPath, options, warnings);
        DecoderSession? decoder = null;
        KvCache? empty = null;
        PrefixCache? prefixes = null;
        try
        {
            var signature = DecoderSignature.Validate(created.Session, manifest, model.GraphPath, model.ManifestPath);
            if (signature.ContiguousRows && options.MaxBatchSize > 1)
            {
                warnings.Add($"Guard:Onnx:MaxBatchSize {options.MaxBatchSize} is ignored: {model.ManifestPath} marks a fused graph (fused_operators), whose GroupQueryAttention cannot take padded rows; calls run unbatched (docs/adr/013-fused-graph.md).");
            }

            decoder = new DecoderSession(created.Session, signature, created.KvMemory, created.ProviderName);
            empty = KvCache.Empty(signature, 1);
            TrialPass(decoder, empty, encoder, model);
            if (options.PrefixReuse)
            {
                prefixes = BuildPrefixes(decoder, empty, encoder, renderer, model, options.CustomPrefixCacheSize);
            }

            return new OnnxGuardEngine(model, decoder, empty, encoder, prefixes, renderer, options, context, warnings,
                string.IsNullOrWhiteSpace(name) ? EngineName : name, identity, time ?? TimeProvider.System);
        }
        catch
        {
            prefixes?.Dispose();
            empty?.Dispose();
            if (decoder is not null)
            {
                decoder.Dispose();
            }
            else
            {
                created.Session.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// The engine's <see cref="CacheIdentity"/>: everything that changes the answer to the same conversation, from the
    /// model directory (the manifest's model digest, the tokenizer) and from the options (the context window, which decides
    /// truncation, and the answer tokens, which bound the category list). Decoding is always greedy. Execution provider,
    /// threads and prefix reuse are left out: they change nothing but rounding.
    /// </summary>
    private static string Identity(ModelDirectory model, int context, int maxCategoryTokens, List<string> warnings)
    {
        var manifest = model.Manifest;
        return EngineIdentity.Join(
            EngineName,
            ("family", manifest.Family.ToString()),
            ("model", manifest.ModelId),
            ("dtype", manifest.DType),
            ("weights", ModelIdentity.Weights(model, warnings)),
            ("tokenizer", ModelIdentity.Tokenizer(model)),
            ("context", context.ToString(CultureInfo.InvariantCulture)),
            ("answer_tokens", maxCategoryTokens.ToString(CultureInfo.InvariantCulture)));
    }

    private static void CheckFixedTextFits(LlamaGuardPromptRenderer renderer, PromptEncoder encoder, int context, int maxCategoryTokens)
    {
        foreach (var role in new[] { GuardRole.User, GuardRole.Agent })
        {
            var fixedTokens = encoder.Tokenizer.CountTokens(renderer.GetPrefix(role)) + encoder.Tokenizer.CountTokens(renderer.GetSuffix(role));
            var needed = fixedTokens + maxCategoryTokens + encoder.LeadIn.Length + BoundarySlack + 16;
            if (needed > context)
            {
                throw new OnnxModelLoadException(
                    "Guard:Onnx:ContextTokens",
                    $"the {renderer.Family} prompt's fixed text for {role} takes {fixedTokens} tokens; with {maxCategoryTokens} answer tokens the {context}-token context leaves no room for a conversation (raise ContextTokens or shorten the taxonomy)",
                    null);
            }
        }
    }

    /// <summary>One token through the graph: catches graphs whose run-time shapes disagree with the manifest, or that cannot start without a past.</summary>
    private static void TrialPass(DecoderSession decoder, KvCache empty, PromptEncoder encoder, ModelDirectory model)
    {
        try
        {
            using var runOptions = new RunOptions();
            using var output = decoder.Forward(DecoderInput.Single([encoder.Tokenizer.BosId], 0), empty, runOptions);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or InvalidDataException)
        {
            throw new OnnxModelLoadException(model.GraphPath, $"a trial forward pass failed ({model.ManifestPath} describes the model): {ex.Message}", ex);
        }
    }

    private static PrefixCache BuildPrefixes(DecoderSession decoder, KvCache empty, PromptEncoder encoder, LlamaGuardPromptRenderer renderer, ModelDirectory model, int customCapacity)
    {
        try
        {
            return PrefixCache.Build(decoder, empty, role => encoder.Encode(renderer.GetPrefixSegments(role), withLeadIn: false), customCapacity);
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or InvalidDataException)
        {
            throw new OnnxModelLoadException(model.GraphPath, $"computing the prompt prefix cache failed: {ex.Message}", ex);
        }
    }
}
