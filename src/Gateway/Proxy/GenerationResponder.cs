using System.Text.Json;
using Gateway.Configuration;
using Gateway.Errors;
using Gateway.Formatting;
using Gateway.Generation;
using Gateway.Moderation;
using Gateway.Telemetry;
using Gateway.Upstreams;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Proxy;

/// <summary>Reads the upstream's answer, runs response moderation, and writes the client's shape:
/// one body for unary calls, SSE events as they arrive for streams.</summary>
/// <remarks>This file holds the entry point, the upstream error status path and the helpers both paths share; unary
/// reading is in GenerationResponder.Unary.cs, streaming and stream cuts in GenerationResponder.Stream.cs.</remarks>
internal sealed partial class GenerationResponder(
    GenerationRequest request, Upstream upstream, ModerationContext moderation, IResponseModerator moderator,
    IClientFormatter formatter, GatewayOptions options, SecretRedactor redactor, TimeProvider time, GatewayMetrics metrics, ILogger logger)
{
    // An error body is read only for its message; a longer one is not worth holding.
    private const int MaxErrorBodyBytes = 64 * 1024;

    private readonly bool _workersAi = request.Api.IsWorkersAi();

    // The upstream's own JSON is relayed unchanged when the client speaks the same protocol.
    public bool Native => _workersAi == (upstream.Protocol.Kind == UpstreamKind.WorkersAi);

    public async Task RespondAsync(HttpContext context, HttpResponseMessage response)
    {
        var aborted = context.RequestAborted;
        try
        {
            if (!response.IsSuccessStatusCode)
            {
                var body = await ReadErrorBodyAsync(response.Content, aborted);
                var error = UpstreamErrors.Map(upstream, response.StatusCode, body.Span, redactor, response.Headers.RetryAfter);
                LogUpstreamStatus(logger, upstream.Name, (int)response.StatusCode);
                await WriteErrorAsync(context, error);
                return;
            }
            if (request.Stream)
            {
                await StreamAsync(context, response, aborted);
            }
            else
            {
                await UnaryAsync(context, response, aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; disposing the upstream response aborts the upstream request.
        }
        catch (ApiException ex)
        {
            await WriteErrorAsync(context, ex.Error);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or UpstreamProtocolException or JsonException or OperationCanceledException)
        {
            LogUpstreamFailure(logger, upstream.Name, ex.GetType().Name);
            var error = ex is UpstreamProtocolException or JsonException
                ? ApiErrors.UpstreamMalformedResponse(upstream.Name)
                : ApiErrors.UpstreamResponseFailed(upstream.Name);
            await WriteErrorAsync(context, error);
        }
    }

    private Task WriteErrorAsync(HttpContext context, ApiError error) => ErrorWriter.WriteResponseAsync(context, error, _workersAi);

    /// <summary>Reads an error body for its message under the body deadline; a body that is too large, too slow or
    /// broken is treated as empty, since the status alone still says what happened.</summary>
    private async Task<ReadOnlyMemory<byte>> ReadErrorBodyAsync(HttpContent content, CancellationToken aborted)
    {
        using var deadline = new CancellationTokenSource(upstream.ResponseBodyTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, deadline.Token);
        try
        {
            return await UpstreamBodyReader.ReadAsync(content, MaxErrorBodyBytes, linked.Token);
        }
        catch (Exception ex) when (!aborted.IsCancellationRequested
            && ex is OperationCanceledException or IOException or HttpRequestException or UpstreamBodyTooLargeException)
        {
            LogErrorBodyUnread(logger, upstream.Name, ex.GetType().Name);
            return ReadOnlyMemory<byte>.Empty;
        }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Upstream {Upstream} answered with HTTP {Status}")]
    private static partial void LogUpstreamStatus(ILogger logger, string upstream, int status);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Upstream {Upstream} failed while responding: {ErrorType}")]
    private static partial void LogUpstreamFailure(ILogger logger, string upstream, string errorType);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Upstream {Upstream} sent a response or stream event over {MaxBytes} bytes")]
    private static partial void LogTooLarge(ILogger logger, string upstream, long maxBytes);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Upstream {Upstream} error body could not be read: {ErrorType}")]
    private static partial void LogErrorBodyUnread(ILogger logger, string upstream, string errorType);
}
