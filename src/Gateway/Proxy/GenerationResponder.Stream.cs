using Gateway.Errors;
using Gateway.Formatting;
using Gateway.Moderation;
using Gateway.Sse;
using Gateway.Upstreams;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Proxy;

// Streams: upstream events are read, moderated and relayed as SSE as they arrive; a failure cuts the stream.
internal sealed partial class GenerationResponder
{
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

    [LoggerMessage(EventId = 2007, Level = LogLevel.Warning, Message = "Stream from upstream {Upstream} was cut: {Reason} (events already sent to the client: {Started})")]
    private static partial void LogStreamCut(ILogger logger, string upstream, StreamCutReason reason, bool started);
}
