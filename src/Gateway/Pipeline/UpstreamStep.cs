using Gateway.Moderation;
using Gateway.Proxy;

namespace Gateway.Pipeline;

/// <summary>Forwards the request to its upstream and answers the client from the upstream's answer; the response
/// check (unary) or the stream filter (streams) runs inside, as the answer is read.</summary>
internal sealed class UpstreamStep(GenerationProxy proxy) : IGenerationStep
{
    public async ValueTask<bool> RunAsync(ModerationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        await proxy.ForwardAsync(context);
        return false;
    }
}
