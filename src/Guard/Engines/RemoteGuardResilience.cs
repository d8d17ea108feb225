using Microsoft.Extensions.Http.Resilience;
using Polly;

namespace Guard.Engines;

/// <summary>The remote engines' resilience pipeline: retries of transient failures (connection errors, attempt
/// timeouts, 408, 429, 5xx) with exponential backoff and full jitter, honouring the server's Retry-After up to
/// <see cref="RemoteGuardOptions.MaxRetryDelay"/>, around a per-attempt timeout.</summary>
/// <remarks>Classification is idempotent, so retrying is safe. Jitter keeps many gateway replicas from retrying in
/// lockstep; capping Retry-After keeps a guard server from parking requests for longer than the gateway allows.</remarks>
internal static class RemoteGuardResilience
{
    public static ResiliencePipeline<HttpResponseMessage> Build(RemoteGuardOptions options, TimeProvider time, GuardHealthTracker health)
    {
        var builder = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time };
        if (options.MaxAttempts > 1)
        {
            builder.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxAttempts - 1,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryDelay,
                MaxDelay = options.MaxRetryDelay,
                ShouldRetryAfterHeader = false,
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, options.MaxRetryDelay, time)),
                OnRetry = args =>
                {
                    health.Failure(Describe(args.Outcome));
                    return default;
                },
            });
        }
        builder.AddTimeout(options.Timeout);
        return builder.Build();
    }

    /// <summary>The server's Retry-After (seconds or a date), capped; null lets the backoff decide.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeSpan max, TimeProvider time)
    {
        if (response?.Headers.RetryAfter is not { } header)
        {
            return null;
        }
        var delay = header.Delta ?? (header.Date is { } date ? date - time.GetUtcNow() : null);
        if (delay is not { } value || value <= TimeSpan.Zero)
        {
            return null;
        }
        return value < max ? value : max;
    }

    private static string Describe(Outcome<HttpResponseMessage> outcome) => outcome.Result is { } response
        ? $"the guard server answered HTTP {(int)response.StatusCode}"
        : $"the guard server call failed ({outcome.Exception?.GetType().Name})";
}
