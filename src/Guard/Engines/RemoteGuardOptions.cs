using Guard.Prompts;

namespace Guard.Engines;

/// <summary>Settings of a remote Llama Guard (<c>Guard:Remote</c>).</summary>
public sealed class RemoteGuardOptions
{
    /// <summary>Base address: <c>https://api.cloudflare.com/</c> for Workers AI, the server root for OpenAI-compatible servers.</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>Bearer token; never logged.</summary>
    public string? ApiToken { get; set; }

    /// <summary>Cloudflare account id (Workers AI only).</summary>
    public string? AccountId { get; set; }

    /// <summary>The model: <c>@hf/thebloke/llamaguard-7b-awq</c> on Workers AI, the served model name on vLLM.</summary>
    public string Model { get; set; } = "@hf/thebloke/llamaguard-7b-awq";

    /// <summary>The model's prompt format.</summary>
    public GuardFamily Family { get; set; } = GuardFamily.LlamaGuard1;

    /// <summary>Custom taxonomy; null keeps the family's default categories.</summary>
    public GuardTaxonomyConfig? Taxonomy { get; set; }

    /// <summary>Context window of the model in tokens; longer conversations are truncated (see docs/guard.md).</summary>
    public int ContextTokens { get; set; } = 4096;

    /// <summary>Tokens generated per verdict: enough for <c>unsafe</c> and a list of codes.</summary>
    public int MaxTokens { get; set; } = 24;

    /// <summary>Time allowed for one attempt.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Attempts per call (1 = no retry). Classification is idempotent, so transient failures are retried.</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>First retry delay; doubles per attempt, with jitter, capped by <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest delay between attempts (also caps a server's Retry-After).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Ask an OpenAI-compatible server for log-probabilities to compute the unsafe probability.</summary>
    public bool Logprobs { get; set; } = true;

    /// <summary>How many alternatives per position to ask for.</summary>
    public int TopLogprobs { get; set; } = 5;

    /// <summary>Collects every configuration problem; empty when valid.</summary>
    public IReadOnlyList<string> Validate(bool workersAi)
    {
        var errors = new List<string>();
        if (BaseAddress is null || !BaseAddress.IsAbsoluteUri)
        {
            errors.Add("Guard:Remote:BaseAddress must be an absolute URL.");
        }
        if (workersAi && string.IsNullOrWhiteSpace(AccountId))
        {
            errors.Add("Guard:Remote:AccountId is required for a Workers AI guard.");
        }
        if (string.IsNullOrWhiteSpace(Model))
        {
            errors.Add("Guard:Remote:Model must name the Llama Guard model.");
        }
        if (MaxAttempts < 1)
        {
            errors.Add($"Guard:Remote:MaxAttempts must be at least 1, got {MaxAttempts}.");
        }
        if (MaxTokens < 1)
        {
            errors.Add($"Guard:Remote:MaxTokens must be at least 1, got {MaxTokens}.");
        }
        if (Timeout <= TimeSpan.Zero)
        {
            errors.Add("Guard:Remote:Timeout must be positive.");
        }
        if (ContextTokens < 512)
        {
            errors.Add($"Guard:Remote:ContextTokens must be at least 512, got {ContextTokens}.");
        }
        if (Taxonomy is not null)
        {
            errors.AddRange(GuardTaxonomyValidator.Validate(Family, Taxonomy));
        }
        return errors;
    }
}
