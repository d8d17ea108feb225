using Gateway.Generation;
using Guard.Tokenizers;

namespace Gateway.Tokens;

/// <summary>Counts a request's prompt tokens in its model's format: exactly with the family's tokenizer, or with the
/// byte estimate when the model has no family or its tokenizer is not available.</summary>
internal sealed class PromptTokenCounter(PromptTokenizers tokenizers)
{
    public PromptTokenCount Count(GenerationRequest request)
    {
        var family = request.Model.Tokenizer;
        var segments = PromptSegments.Render(request, family);
        if (family is null || tokenizers.Get(family) is not { } tokenizer)
        {
            return new PromptTokenCount(TokenBounds.Estimate(segments), Estimated: true);
        }
        var ids = new List<int>(256);
        tokenizer.EncodeTo(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(segments), ids);
        return new PromptTokenCount(ids.Count, Estimated: false);
    }
}
