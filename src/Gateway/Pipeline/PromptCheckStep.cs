using Gateway.Errors;
using Gateway.Moderation;

namespace Gateway.Pipeline;

/// <summary>Judges the prompt before anything is forwarded: the outcome goes into the response metadata, and a block
/// (400, the surface's content-filter error) or a closed failure (503) ends the request without an upstream call.</summary>
internal sealed class PromptCheckStep(IPromptModerator moderator) : IGenerationStep
{
    public async ValueTask<bool> RunAsync(ModerationContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var decision = await moderator.CheckPromptAsync(context, context.HttpContext.RequestAborted);
        context.PromptDecision = decision;
        ModerationHeaders.Add(context.HttpContext, decision);
        if (!decision.Allowed)
        {
            throw new ApiException(decision.GuardUnavailable
                ? ApiErrors.GuardUnavailable(decision.Policy ?? "default", decision.Reason ?? "no verdict")
                : ApiErrors.PromptBlocked(decision.Categories));
        }
        return true;
    }
}
