using Gateway.Errors;
using Gateway.Generation;
using Gateway.Upstreams;

namespace Gateway.Tokens;

/// <summary>Refuses, before anything is forwarded, a request whose prompt tokens plus <c>max_tokens</c> (the model's
/// default when the request gives none) exceed its model's <c>ContextTokens</c>.</summary>
/// <remarks>The prompt is tokenized only when <see cref="TokenBounds.UpperBound(GenerationRequest)"/> plus
/// <c>max_tokens</c> exceeds the window, so short prompts cost one UTF-8 length pass. Models served by the in-process
/// Llama Guard upstream are left alone: the guard fits a conversation to its window by its own truncation rule
/// (docs/guard.md).</remarks>
internal sealed class ContextWindowCheck(PromptTokenCounter counter, UpstreamRegistry upstreams)
{
    /// <exception cref="ApiException">The request does not fit (<see cref="ApiErrorKind.ContextWindowExceeded"/>).</exception>
    public void Check(GenerationRequest request)
    {
        var model = request.Model;
        if (model.ContextTokens is not { } window || upstreams.ServesGuard(model))
        {
            return;
        }
        if (TokenBounds.UpperBound(request) + request.MaxTokens <= window)
        {
            return;
        }
        var prompt = counter.Count(request);
        if ((long)prompt.Tokens + request.MaxTokens > window)
        {
            throw new ApiException(Error(request, window, prompt));
        }
    }

    /// <summary>The surface's own wording: Workers AI's "estimated number of input and maximum output tokens" message,
    /// OpenAI's <c>context_length_exceeded</c> message; both name the field to shorten.</summary>
    public static ApiError Error(GenerationRequest request, int window, PromptTokenCount prompt)
    {
        var field = request.Messages is null ? "prompt" : "messages";
        return ApiErrors.ContextWindowExceeded(request.Api.IsWorkersAi(), field, window, prompt.Tokens, prompt.Estimated,
            request.MaxTokens, request.MaxTokensGiven);
    }
}
