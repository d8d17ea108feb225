using System.Diagnostics;
using System.Globalization;
using Gateway.Generation;
using Gateway.Moderation;
using Gateway.Upstreams;
using Microsoft.AspNetCore.Http;
using G = Gateway.Telemetry.SemanticNames.Gateway;
using GenAi = Gateway.Telemetry.SemanticNames.GenAi;

namespace Gateway.Telemetry;

/// <summary>The API call's span, after the GenAI inference conventions: <c>{gen_ai.operation.name} {gen_ai.request.model}</c>
/// (<c>chat @cf/meta/llama-3.1-8b-instruct-awq</c>), a child of ASP.NET Core's server span, with the request's GenAI
/// attributes, the upstream's usage and finish reason, and the moderation outcome. The policy span, the guard checks'
/// <c>run_guardrail</c> spans and the upstream call are its children.</summary>
internal static class GenerationSpan
{
    /// <summary>Starts the span before the request is read (its name is the operation alone until the model is known);
    /// null when nobody listens.</summary>
    public static Activity? Start(ClientApi api)
    {
        if (!GatewayMetrics.ActivitySource.HasListeners())
        {
            return null;
        }
        var operation = api == ClientApi.OpenAiCompletions ? GenAi.TextCompletion : GenAi.Chat;
        var span = GatewayMetrics.ActivitySource.StartActivity(operation, ActivityKind.Internal);
        span?.SetTag(GenAi.OperationName, operation);
        span?.SetTag(G.Api, api.ToString());
        return span;
    }

    /// <summary>Names the span after the validated request and adds what the request says.</summary>
    public static void Describe(Activity? span, HttpContext context, GenerationRequest request, Upstream upstream)
    {
        if (span is null)
        {
            return;
        }
        // Workers AI takes a raw prompt or messages; OpenAI's completions a prompt, its chat completions messages.
        var operation = request.Messages is null ? GenAi.TextCompletion : GenAi.Chat;
        span.DisplayName = operation + " " + request.Model.Id;
        span.SetTag(GenAi.OperationName, operation);
        span.SetTag(GenAi.RequestModel, request.Model.Id);
        span.SetTag(GenAi.ProviderName, upstream.Options.Kind switch
        {
            UpstreamKind.WorkersAi => GenAi.ProviderWorkersAi,
            UpstreamKind.OpenAi => GenAi.ProviderOpenAi,
            _ => GenAi.ProviderGateway,
        });
        if (request.MaxTokensGiven)
        {
            span.SetTag(GenAi.RequestMaxTokens, request.MaxTokens);
        }
        if (request.Sampling.Temperature is { } temperature)
        {
            span.SetTag(GenAi.RequestTemperature, temperature);
        }
        if (request.Sampling.TopP is { } topP)
        {
            span.SetTag(GenAi.RequestTopP, topP);
        }
        span.SetTag(G.Stream, request.Stream);
        span.SetTag(G.Upstream, upstream.Name);
        span.SetTag(G.RequestId, context.TraceIdentifier);
        if (context.Features.Get<Auth.CallerIdentity>()?.Tenant is { Length: > 0 } tenant)
        {
            span.SetTag(G.Tenant, tenant);
        }
    }

    /// <summary>Adds the outcome, the upstream's usage and finish reason, and marks a failed request as an error.</summary>
    /// <param name="span">The span; nothing happens when null.</param>
    /// <param name="moderation">What the pipeline learned; null when the request failed validation.</param>
    /// <param name="status">The HTTP status the client got.</param>
    /// <param name="outcome">The request's outcome (<see cref="RequestOutcome"/>).</param>
    public static void Finish(Activity? span, ModerationContext? moderation, int status, string outcome)
    {
        if (span is null)
        {
            return;
        }
        span.SetTag(G.Outcome, outcome);
        if (moderation?.Usage is { } usage)
        {
            span.SetTag(GenAi.UsageInputTokens, usage.PromptTokens);
            span.SetTag(GenAi.UsageOutputTokens, usage.CompletionTokens);
        }
        var withheld = moderation?.ResponseDecision is { Allowed: false } && moderation.StreamMode != SemanticNames.StreamModes.Audit;
        if ((withheld ? GenAi.FinishContentFilter : moderation?.FinishReason) is { } reason)
        {
            span.SetTag(GenAi.ResponseFinishReasons, new[] { reason });
        }
        if (outcome == SemanticNames.Outcomes.Error)
        {
            var error = moderation?.UpstreamFailed == true ? "stream_cut"
                : status >= 400 ? status.ToString(CultureInfo.InvariantCulture)
                : "_OTHER";
            span.SetTag(SemanticNames.General.ErrorType, error);
            span.SetStatus(ActivityStatusCode.Error, error);
        }
    }
}
