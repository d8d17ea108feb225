using System.Text.Json;
using Gateway.Errors;
using Gateway.Formatting;
using Gateway.Generation;
using Gateway.Hosting;
using Gateway.Moderation;
using Gateway.Sse;
using Gateway.Upstreams;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Proxy;

/// <summary>Reads the upstream's answer, runs response moderation, and writes the client's shape:
/// one body for unary calls, SSE events as they arrive for streams.</summary>
internal sealed partial class GenerationResponder(
    GenerationRequest request, Upstream upstream, ModerationContext moderation, IResponseModerator moderator,
    IClientFormatter formatter, GatewayOptions options, SecretRedactor redactor, TimeProvider time, ILogger logger)
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
            var decision = await moderator.CheckResponseAsync(moderation, result, cancellationToken);
            if (!decision.Allowed)
            {
                await WriteErrorAsync(context, Moderated(decision));
                return;
            }
            var bytes = formatter.FormatResult(request, result, Native);
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = bytes.Length;
            await context.Response.Body.WriteAsync(bytes, cancellationToken);
        }
    }

    private async Task StreamAsync(HttpContext context, HttpResponseMessage response, CancellationToken aborted)
    {
        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (!string.Equals(mediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            await CutAsync(context, null, StreamCutReason.NotEventStream, ApiErrors.StreamNotEventStream(upstream.Name, mediaType));
            return;
        }
        var idleTimeout = upstream.Options.StreamIdleTimeout;
        using var idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        using var idleOrAborted = CancellationTokenSource.CreateLinkedTokenSource(aborted, idle.Token);
        // Silence is timed from the last bytes received, not per event: a slow but steady stream is not idle.
        await using var body = new ProgressStream(await response.Content.ReadAsStreamAsync(aborted), () => idle.CancelAfter(idleTimeout));
        await using var reader = new SseReader(body, options.MaxStreamEventBytes);
        await using var stream = moderator.BeginStream(moderation);
        var events = upstream.Protocol.CreateStreamReader();
        var client = formatter.CreateStream(request, Native);
        var writer = new SseWriter(context.Response.BodyWriter);
        var pending = new List<string>();
        var sawDone = false;
        var eventCount = 0;
        try
        {
            while (true)
            {
                // Only the wait on the upstream counts as silence, not the gateway's own work (moderation, a slow client).
                idle.CancelAfter(idleTimeout);
                var next = await reader.ReadAsync(idleOrAborted.Token);
                idle.CancelAfter(Timeout.InfiniteTimeSpan);
                if (next is not { } sse)
                {
                    break;
                }
                eventCount++;
                if (events.Read(sse) is not { } delta)
                {
                    continue;
                }
                if (delta.Done)
                {
                    sawDone = true;
                    break;
                }
                client.OnDelta(delta, pending);
                var verdict = await stream.OnTextAsync(delta.Text, aborted);
                if (verdict.Action == StreamAction.Block)
                {
                    await CutAsync(context, writer, StreamCutReason.Moderated, Moderated(verdict.Decision));
                    return;
                }
                if (verdict.Action == StreamAction.Release)
                {
                    await FlushPendingAsync(context, writer, pending, aborted);
                }
            }
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            await CutAsync(context, writer, StreamCutReason.Idle, ApiErrors.StreamIdle(upstream.Name, idleTimeout));
            return;
        }
        catch (SseFormatException)
        {
            // The reader's only format error: an event over its size limit.
            LogTooLarge(logger, upstream.Name, options.MaxStreamEventBytes);
            await CutAsync(context, writer, StreamCutReason.EventTooLarge, ApiErrors.StreamEventTooLarge(upstream.Name, options.MaxStreamEventBytes));
            return;
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or UpstreamProtocolException)
        {
            LogUpstreamFailure(logger, upstream.Name, ex.GetType().Name);
            var malformed = ex is UpstreamProtocolException;
            await CutAsync(context, writer, malformed ? StreamCutReason.MalformedEvent : StreamCutReason.UpstreamFailed,
                ApiErrors.StreamFailed(upstream.Name, malformed));
            return;
        }
        if (!sawDone && reader.HadIncompleteEvent)
        {
            await CutAsync(context, writer, StreamCutReason.TruncatedEvent, ApiErrors.StreamTruncatedEvent(upstream.Name));
            return;
        }
        if (!events.Ended)
        {
            // A clean close without the protocol's end marker is still a cut: relaying it as finished would make a
            // truncated answer look complete (docs/adr/005).
            await CutAsync(context, writer, eventCount == 0 ? StreamCutReason.NoEvents : StreamCutReason.NoEndMarker, eventCount == 0
                ? ApiErrors.StreamNoEvents(upstream.Name)
                : ApiErrors.StreamEndMissing(upstream.Name));
            return;
        }
        var final = await stream.OnCompleteAsync(aborted);
        if (final.Action == StreamAction.Block)
        {
            await CutAsync(context, writer, StreamCutReason.Moderated, Moderated(final.Decision));
            return;
        }
        client.OnEnd(pending);
        await FlushPendingAsync(context, writer, pending, aborted);
    }

    private static void StartStream(HttpContext context)
    {
        if (context.Response.HasStarted)
        {
            return;
        }
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        context.Response.Headers.ContentLength = null;
    }

    private static async Task FlushPendingAsync(HttpContext context, SseWriter writer, List<string> pending, CancellationToken cancellationToken)
    {
        if (pending.Count == 0)
        {
            return;
        }
        StartStream(context);
        foreach (var data in pending)
        {
            await writer.WriteDataAsync(data, cancellationToken);
        }
        pending.Clear();
    }

    /// <summary>Ends a stream with an error: a JSON error response if nothing was sent yet, else an SSE error event
    /// in the client's format and no <c>[DONE]</c>, so clients can tell a cut stream from a finished one.</summary>
    private async Task CutAsync(HttpContext context, SseWriter? writer, StreamCutReason reason, ApiError error)
    {
        var started = context.Response.HasStarted;
        LogStreamCut(logger, upstream.Name, reason, started);
        if (!started || writer is null)
        {
            await WriteErrorAsync(context, error);
            return;
        }
        var payload = JsonText.String(json => ErrorWriter.Write(json, error, _workersAi));
        await writer.WriteDataAsync(payload, context.RequestAborted);
    }

    private Task WriteErrorAsync(HttpContext context, ApiError error) => ErrorWriter.WriteResponseAsync(context, error, _workersAi);

    private static ApiError Moderated(ModerationDecision? decision) => ApiErrors.ResponseBlocked(decision?.Reason);

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

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Upstream {Upstream} answered with HTTP {Status}")]
    private static partial void LogUpstreamStatus(ILogger logger, string upstream, int status);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Upstream {Upstream} failed while responding: {ErrorType}")]
    private static partial void LogUpstreamFailure(ILogger logger, string upstream, string errorType);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Upstream {Upstream} did not send its whole response body within {TimeoutSeconds} s")]
    private static partial void LogBodyTimeout(ILogger logger, string upstream, double timeoutSeconds);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Warning, Message = "Upstream {Upstream} sent a response or stream event over {MaxBytes} bytes")]
    private static partial void LogTooLarge(ILogger logger, string upstream, long maxBytes);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Stream from upstream {Upstream} was cut: {Reason} (events already sent to the client: {Started})")]
    private static partial void LogStreamCut(ILogger logger, string upstream, StreamCutReason reason, bool started);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Warning, Message = "Upstream {Upstream} error body could not be read: {ErrorType}")]
    private static partial void LogErrorBodyUnread(ILogger logger, string upstream, string errorType);
}
