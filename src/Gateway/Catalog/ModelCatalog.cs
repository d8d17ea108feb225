using System.Collections.Frozen;
using Guard.Tokenizers;

namespace Gateway.Catalog;

/// <summary>The models the gateway serves: an immutable snapshot built from configuration, read without locks.</summary>
public sealed class ModelCatalog
{
    private readonly FrozenDictionary<string, ModelInfo> _models;

    private ModelCatalog(FrozenDictionary<string, ModelInfo> models, IReadOnlyList<ModelInfo> ordered)
    {
        _models = models;
        Models = ordered;
    }

    /// <summary>All models, ordered by id (configuration binding sorts the keys).</summary>
    public IReadOnlyList<ModelInfo> Models { get; }

    /// <summary>Looks a model up by its exact id.</summary>
    public bool TryGet(string id, out ModelInfo model) => _models.TryGetValue(id, out model!);

    /// <summary>Builds a catalog, collecting every configuration error before failing.</summary>
    /// <exception cref="InvalidOperationException">The configuration is invalid; the message lists each problem.</exception>
    public static ModelCatalog Build(IEnumerable<KeyValuePair<string, ModelOptions>> options)
    {
        var errors = new List<string>();
        var list = new List<ModelInfo>();
        foreach (var (id, o) in options)
        {
            var where = $"Gateway:Models:{id}";
            if (string.IsNullOrWhiteSpace(id) || id.Any(char.IsWhiteSpace))
            {
                errors.Add($"{where}: a model id must be non-empty and contain no whitespace.");
                continue;
            }
            var streamDefault = o.DefaultMaxTokensStream ?? o.MaxTokensLimit ?? o.DefaultMaxTokens;
            var limit = o.MaxTokensLimit ?? Math.Max(streamDefault, o.DefaultMaxTokens);
            if (o.DefaultMaxTokens < 1 || streamDefault < 1 || limit < 1)
            {
                errors.Add($"{where} ('{id}'): token limits must be positive.");
            }
            if (o.DefaultMaxTokens > limit || streamDefault > limit)
            {
                errors.Add($"{where} ('{id}'): default max tokens exceed MaxTokensLimit ({limit}).");
            }
            if (o.ContextTokens is { } context && (context < 1 || context <= Math.Max(o.DefaultMaxTokens, streamDefault)))
            {
                errors.Add($"{where} ('{id}'): ContextTokens {context} must be positive and larger than the default max tokens "
                    + $"({Math.Max(o.DefaultMaxTokens, streamDefault)}), or every request without max_tokens would be refused; "
                    + "raise ContextTokens or lower DefaultMaxTokens/DefaultMaxTokensStream.");
            }
            var tokenizer = ResolveTokenizer(o.Tokenizer);
            if (tokenizer is null && !string.IsNullOrEmpty(o.Tokenizer))
            {
                errors.Add($"{where} ('{id}'): Tokenizer '{o.Tokenizer}' is not a known family; use "
                    + $"{TokenizerFamilies.Llama2} or {TokenizerFamilies.Llama3}, or leave it unset to estimate tokens from bytes.");
            }
            var d = ParameterRanges.WorkersAiDefaults;
            var r = o.Ranges;
            var ranges = new ParameterRanges(
                Resolve(r.Temperature, d.Temperature), Resolve(r.TopP, d.TopP), Resolve(r.TopK, d.TopK),
                Resolve(r.Seed, d.Seed), Resolve(r.RepetitionPenalty, d.RepetitionPenalty),
                Resolve(r.FrequencyPenalty, d.FrequencyPenalty), Resolve(r.PresencePenalty, d.PresencePenalty));
            foreach (var (name, range) in new[]
            {
                ("Temperature", ranges.Temperature), ("TopP", ranges.TopP), ("TopK", ranges.TopK), ("Seed", ranges.Seed),
                ("RepetitionPenalty", ranges.RepetitionPenalty), ("FrequencyPenalty", ranges.FrequencyPenalty),
                ("PresencePenalty", ranges.PresencePenalty),
            })
            {
                if (range.Min > range.Max)
                {
                    errors.Add($"{where} ('{id}'): Ranges:{name} has Min {range.Min} > Max {range.Max}.");
                }
            }
            list.Add(new ModelInfo(id, string.IsNullOrEmpty(o.UpstreamModel) ? id : o.UpstreamModel, o.ContextTokens,
                o.DefaultMaxTokens, streamDefault, limit, o.MaxPromptChars, o.Lora, o.Tools, o.Beta, o.Deprecated, ranges, tokenizer));
        }
        if (list.Count == 0 && errors.Count == 0)
        {
            errors.Add("Gateway:Models is empty; configure at least one model.");
        }
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("Invalid model catalog:" + Environment.NewLine + string.Join(Environment.NewLine, errors));
        }
        var dict = list.ToFrozenDictionary(m => m.Id, StringComparer.Ordinal);
        return new ModelCatalog(dict, list);
    }

    private static string? ResolveTokenizer(string? configured) =>
        string.Equals(configured, TokenizerFamilies.Llama2, StringComparison.OrdinalIgnoreCase) ? TokenizerFamilies.Llama2
        : string.Equals(configured, TokenizerFamilies.Llama3, StringComparison.OrdinalIgnoreCase) ? TokenizerFamilies.Llama3
        : null;

    private static (double, double) Resolve(NumberRange? configured, (double Min, double Max) fallback) =>
        configured is null ? fallback : (configured.Min, configured.Max);
}
