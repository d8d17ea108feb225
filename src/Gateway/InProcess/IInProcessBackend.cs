using System.Text.Json;

namespace Gateway.InProcess;

/// <summary>What an <see cref="InProcessUpstreamHandler"/> serves: generates the answer to one OpenAI request body.</summary>
internal interface IInProcessBackend
{
    /// <summary>Generates an answer for a parsed request body (<paramref name="chat"/>: a <c>/v1/chat/completions</c>
    /// request, otherwise <c>/v1/completions</c>).</summary>
    /// <exception cref="InProcessUpstreamException">The request cannot be answered; becomes an OpenAI error response.</exception>
    Task<InProcessGeneration> GenerateAsync(JsonElement request, bool chat, CancellationToken cancellationToken);
}
