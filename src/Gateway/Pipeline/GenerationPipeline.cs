using Gateway.Moderation;

namespace Gateway.Pipeline;

/// <summary>The ordered steps every validated generation request goes through, in the shape YARP gives its transforms:
/// (authentication, done by its middleware before routing) -> policy selection -> prompt check -> upstream, with the
/// response check or stream filter inside -> audit. A step that answers the client stops the ones after it; the audit
/// runs whatever happened, once the answer is written (<see cref="Audit"/>).</summary>
internal sealed class GenerationPipeline(PolicySelectionStep policy, PromptCheckStep prompt, UpstreamStep upstream, AuditStep audit)
{
    private readonly IGenerationStep[] _steps = [policy, prompt, upstream];

    /// <summary>Runs the steps for a validated request.</summary>
    /// <exception cref="Errors.ApiException">A step refused the request; the edge answers it.</exception>
    public async Task RunAsync(ModerationContext context)
    {
        foreach (var step in _steps)
        {
            if (!await step.RunAsync(context))
            {
                return;
            }
        }
    }

    /// <summary>The last step: records the decisions with the status the client got.</summary>
    public void Audit(ModerationContext context) => audit.Record(context, context.HttpContext.Response.StatusCode);
}
