using System.Text.Json;
using Gateway.Errors;
using Gateway.Formatting;
using Gateway.Moderation;
using Gateway.Upstreams;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Proxy;

// Unary calls: the whole upstream body is read under its deadline, moderated, then written as one client body.
internal sealed partial class GenerationResponder
{
    private async Task UnaryAsync(HttpContext context, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var timeout = upstream.ResponseBodyTimeout;
        ReadOnlyMemory<byte> body;
        using (var deadline = new CancellationTokenSource(timeout, time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token))
        {
            try
            {
                body = await UpstreamBodyReader.ReadAsync(response.Content, options.MaxUpstreamResponseBytes, linked.Token);
            }
            catch (UpstreamBodyTooLargeException ex)
            {
                LogTooLarge(logger, upstream.Name, ex.MaxBytes);
                throw new ApiException(ApiErrors.UpstreamResponseTooLarge(upstream.Name, ex.MaxBytes));
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                LogBodyTimeout(logger, upstream.Name, timeout.TotalSeconds);
                throw new ApiException(ApiErrors.UpstreamBodyTimeout(upstream.Name, timeout));
            }
        }
        GenerationResult result;
        using (var doc = ParseUpstreamJson(body))
        {
            result = upstream.Protocol.ReadResult(doc.RootElement);
            moderation.Usage = result.Usage;
            moderation.FinishReason = result.FinishReason;
            if (moderation.CaptureContent)
            {
                moderation.ResponseText = result.Text;
            }
            var decision = await moderator.CheckResponseAsync(moderation, result, cancellationToken);
            moderation.ResponseDecision = decision;
            ModerationHeaders.AddResponse(context, decision);
            var native = Native;
            if (!decision.Allowed)
            {
                if (decision.GuardUnavailable)
                {
                    await WriteErrorAsync(context, ApiErrors.ResponseGuardUnavailable(decision.Policy ?? "default", decision.Reason ?? "no verdict"));
                    return;
                }
                if (_workersAi)
                {
                    await WriteErrorAsync(context, ApiErrors.ResponseBlocked(decision.Categories));
                    return;
                }
                // OpenAI: a completed answer whose content was removed, as Azure OpenAI reports a filtered completion.
                result = new GenerationResult { Text = "", Usage = result.Usage, FinishReason = OpenAiFormatter.ContentFilter };
                native = false;
            }
            var bytes = formatter.FormatResult(request, result, native);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = bytes.Length;
            await context.Response.Body.WriteAsync(bytes, cancellationToken);
        }
    }

    private static JsonDocument ParseUpstreamJson(ReadOnlyMemory<byte> body)
    {
        try
        {
            return JsonDocument.Parse(body);
        }
        catch (JsonException ex)
        {
            throw new UpstreamProtocolException("upstream body is not JSON", ex);
        }
    }

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Upstream {Upstream} did not send its whole response body within {TimeoutSeconds} s")]
    private static partial void LogBodyTimeout(ILogger logger, string upstream, double timeoutSeconds);
}
