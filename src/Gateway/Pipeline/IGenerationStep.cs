using Gateway.Moderation;

namespace Gateway.Pipeline;

/// <summary>One step of the generation pipeline (<see cref="GenerationPipeline"/>); steps run in a fixed order, each
/// reading and adding to the request's <see cref="ModerationContext"/>.</summary>
internal interface IGenerationStep
{
    /// <summary>Runs the step. Returns false when the step answered the client itself, so later steps must not run; a
    /// refusal is an <see cref="Errors.ApiException"/>, answered at the edge in the surface's format.</summary>
    ValueTask<bool> RunAsync(ModerationContext context);
}
