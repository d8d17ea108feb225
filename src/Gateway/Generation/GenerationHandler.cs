using System.Net;
using Gateway.Catalog;
using Gateway.Errors;
using Gateway.Hosting;
using Gateway.OpenAi;
using Gateway.Proxy;
using Gateway.WorkersAi;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Generation;

/// <summary>The HTTP edge for text generation: reads and validates the request for its surface, hands it to the
/// proxy flow, and maps every <see cref="ApiException"/> to the surface's error envelope.</summary>
internal sealed partial class GenerationHandler(
    ModelCatalog catalog, GenerationProxy proxy, IOptions<GatewayOptions> options, ILogger<GenerationHandler> logger)
{
    public async Task HandleAsync(HttpContext context, ClientApi api, string? routeModel = null, string? accountId = null)
    {
        var workersAi = api.IsWorkersAi();
        GenerationRequest? request = null;
        try
        {
            var (body, document) = await RequestBodyReader.ReadJsonAsync(
                context.Request, options.Value.MaxRequestBodyBytes, allowFormContentType: workersAi, context.RequestAborted);
            try
            {
                var modelId = workersAi ? Uri.UnescapeDataString(routeModel ?? "") : OpenAiRequestParser.ReadModelId(document);
                if (modelId.Length == 0)
                {
                    throw new ApiException(new ApiError(HttpStatusCode.NotFound, ApiErrorKind.ModelNotFound,
                        "The path names no model; use .../ai/run/{model} (GET /v1/models lists them)."));
                }
                if (!catalog.TryGet(modelId, out var model))
                {
                    throw new ApiException(new ApiError(HttpStatusCode.NotFound, ApiErrorKind.ModelNotFound,
                        workersAi ? $"No such model {modelId} or task" : $"The model '{modelId}' does not exist", workersAi ? null : "model"));
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
            if (request.Model.Deprecated is { } deprecated)
            {
                // RFC 9745: the date the model was deprecated.
                context.Response.Headers["Deprecation"] = "@" + new DateTimeOffset(deprecated.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero).ToUnixTimeSeconds();
            }
            await proxy.ForwardAsync(context, request);
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
                StatusCodes.Status413PayloadTooLarge =>
                    new ApiError(HttpStatusCode.RequestEntityTooLarge, ApiErrorKind.PayloadTooLarge, "Request is too large."),
                StatusCodes.Status408RequestTimeout =>
                    new ApiError(HttpStatusCode.RequestTimeout, ApiErrorKind.InvalidRequest, $"The request body did not arrive in time: {ex.Message}"),
                _ => new ApiError(HttpStatusCode.BadRequest, ApiErrorKind.MalformedJson, $"The request body could not be read: {ex.Message}"),
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
            request?.Dispose();
        }
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Request rejected with {Status} ({Kind})")]
    private static partial void LogRejected(ILogger logger, int status, ApiErrorKind kind);
}
