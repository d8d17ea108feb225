using Gateway.Catalog;
using Gateway.Configuration;
using Gateway.Errors;
using Gateway.Generation;
using Gateway.Moderation;
using Gateway.OpenAi;
using Gateway.Pipeline;
using Gateway.Telemetry;
using Gateway.Tokens;
using Gateway.Upstreams;
using Gateway.WorkersAi;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Endpoints;

/// <summary>The HTTP edge for text generation: reads and validates the request for its surface (the context window
/// included), hands it to the proxy flow, and maps every <see cref="ApiException"/> to the surface's error envelope.</summary>
internal sealed partial class GenerationHandler(
    ModelCatalog catalog, ContextWindowCheck contextWindow, GenerationPipeline pipeline, UpstreamRegistry upstreams, GatewayMetrics metrics,
    TimeProvider time, IOptions<GatewayOptions> options, IOptions<TelemetryOptions> telemetry, ILogger<GenerationHandler> logger)
{
    // Content logging is for debugging only (Gateway:LogContent); each text is cut to this length.
    private const int MaxLoggedChars = 2000;

    public async Task HandleAsync(HttpContext context, ClientApi api, string? routeModel = null, string? accountId = null)
    {
        var workersAi = api.IsWorkersAi();
        var started = time.GetTimestamp();
        // The API call's span, named after the GenAI operation and renamed once the model is known.
        using var activity = GenerationSpan.Start(api);
        GenerationRequest? request = null;
        ModerationContext? moderation = null;
        try
        {
            var (body, document) = await RequestBodyReader.ReadJsonAsync(
                context.Request, options.Value.MaxRequestBodyBytes, lenientContentType: workersAi, options.Value.RequestBodyTimeout, time, context.RequestAborted);
            try
            {
                var modelId = workersAi ? Uri.UnescapeDataString(routeModel ?? "") : OpenAiRequestParser.ReadModelId(document);
                if (modelId.Length == 0)
                {
                    throw new ApiException(ApiErrors.NoModelInPath());
                }
                if (!catalog.TryGet(modelId, out var model))
                {
                    throw new ApiException(ApiErrors.ModelNotFound(modelId, workersAi));
                }
                request = workersAi
                    ? WorkersAiRequestParser.Parse(api, model, body, document, accountId)
                    : OpenAiRequestParser.Parse(api, model, body, document);
            }
            catch
            {
                document.Dispose();
                throw;
            }
            GenerationSpan.Describe(activity, context, request, upstreams.Resolve(request.Model));
            if (options.Value.LogContent)
            {
                LogContent(logger, api, request.Model.Id, Cut(request.Prompt ?? string.Join("\n", request.Messages!.Select(m => $"{m.Role}: {m.Content}"))));
            }
            contextWindow.Check(request);
            if (request.Model.Deprecated is { } deprecated)
            {
                // RFC 9745: the date the model was deprecated.
                context.Response.Headers["Deprecation"] = "@" + new DateTimeOffset(deprecated.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeSeconds();
            }
            moderation = new ModerationContext(context, request)
            {
                StartedAt = started,
                Span = activity,
                CaptureContent = telemetry.Value.AuditContent,
            };
            await pipeline.RunAsync(moderation);
        }
        catch (ApiException ex)
        {
            LogRejected(logger, (int)ErrorCatalog.Status(ex.Error, workersAi), ex.Error.Kind);
            await ErrorWriter.WriteResponseAsync(context, ex.Error, workersAi);
        }
        catch (BadHttpRequestException ex)
        {
            // Kestrel's framing errors (bad chunk, body cut short, data too slow); their messages never echo content.
            var error = ex.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => ApiErrors.PayloadTooLarge(),
                StatusCodes.Status408RequestTimeout => ApiErrors.BodyLate(ex.Message),
                _ => ApiErrors.BodyUnreadable(ex.Message),
            };
            LogRejected(logger, (int)ErrorCatalog.Status(error, workersAi), error.Kind);
            await ErrorWriter.WriteResponseAsync(context, error, workersAi);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away.
        }
        finally
        {
            if (moderation is not null)
            {
                pipeline.Audit(moderation);
            }
            var status = context.Response.StatusCode;
            var outcome = RequestOutcome.Of(moderation, status);
            GenerationSpan.Finish(activity, moderation, status, outcome);
            metrics.RequestFinished(api.ToString(), request?.Model.Id, status, outcome, time.GetElapsedTime(started));
            RecordBlocks(moderation);
            request?.Dispose();
        }
    }

    /// <summary>Counts what moderation stopped (<c>gateway.moderation.blocks</c>): a blocked prompt, and a blocked
    /// response unless its stream was in audit mode (recorded, not stopped). Closed failures are not blocks.</summary>
    private void RecordBlocks(ModerationContext? moderation)
    {
        if (moderation?.PromptDecision is { Outcome: SemanticNames.Outcomes.Blocked } prompt)
        {
            metrics.Blocked(prompt.Policy ?? "default", SemanticNames.Gateway.RolePrompt, prompt.CategoryTags ?? []);
        }
        if (moderation?.ResponseDecision is { Outcome: SemanticNames.Outcomes.Blocked } response
            && moderation.StreamMode != SemanticNames.StreamModes.Audit)
        {
            metrics.Blocked(response.Policy ?? "default", SemanticNames.Gateway.RoleResponse, response.CategoryTags ?? []);
        }
    }

    private static string Cut(string text) => text.Length <= MaxLoggedChars ? text : text[..MaxLoggedChars] + "...";

    [LoggerMessage(EventId = 1002, Level = LogLevel.Information, Message = "Content of a {Api} request for {Model} (Gateway:LogContent is on): {Content}")]
    private static partial void LogContent(ILogger logger, ClientApi api, string model, string content);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Request rejected with {Status} ({Kind})")]
    private static partial void LogRejected(ILogger logger, int status, ApiErrorKind kind);
}
