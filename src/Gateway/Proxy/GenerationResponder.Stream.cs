using Gateway.Errors;
using Gateway.Formatting;
using Gateway.Moderation;
using Gateway.Sse;
using Gateway.Telemetry;
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
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(aborted, idle.Token);
        // Silence is timed from the last bytes received, not per event: a slow but steady stream is not idle.
        await using var body = new ProgressStream(await response.Content.ReadAsStreamAsync(aborted), () => idle.CancelAfter(idleTimeout));
        await using var reader = new SseReader(body, options.MaxStreamEventBytes);
        // Disposed after the filter (which cancels the checks still running): releases the guard's stream session.
        using var plan = moderator.BeginStream(moderation);
        if (plan.Settings is { } settings)
        {
            ModerationHeaders.AddStream(context, settings.Mode.ToString().ToLowerInvariant());
        }
        moderation.StreamMode = StreamModes.Of(plan.Settings?.Mode);
        using var filter = new StreamFilter(plan, time, options.MaxStreamChecksInFlight, aborted) { Metrics = metrics };
        var text = moderation.CaptureContent ? new System.Text.StringBuilder() : null;
        var events = upstream.Protocol.CreateStreamReader();
        var client = formatter.CreateStream(request, Native);
        var writer = new SseWriter(context.Response.BodyWriter);
        var payloads = new List<string>();
        var output = new List<string>();
        var progress = new UpstreamProgress();
        Task<SseEvent?>? read = null;
        try
        {
            while (true)
            {
                if (!progress.Ended && read is null)
                {
                    // Only the wait on the upstream counts as silence, not the gateway's own work (checks, a slow client).
                    idle.CancelAfter(idleTimeout);
                    read = reader.ReadAsync(reading.Token).AsTask();
                }
                // Failures of the read are taken below, where they become cuts.
                await WaitAsync(read, filter).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (read is { IsCompleted: true } done)
                {
                    read = null;
                    idle.CancelAfter(Timeout.InfiniteTimeSpan);
                    await ReadEventAsync(done, progress, events, client, filter, payloads, text, aborted);
                    if (progress.Ended)
                    {
                        progress.Cut ??= EndOfStream(reader, events, progress);
                        if (progress.Cut is null)
                        {
                            client.OnEnd(payloads);
                            filter.Add(payloads, "", []);
                            payloads.Clear();
                        }
                        filter.Complete();
                    }
                }
                var state = filter.Advance(output);
                await WriteAsync(context, writer, output, aborted);
                if (state == StreamFilterState.Stopped)
                {
                    await reading.CancelAsync();
                    await StoppedAsync(context, writer, client, filter.Terminal!);
                    return;
                }
                if (state == StreamFilterState.Finished)
                {
                    if (progress.Cut is { } cut)
                    {
                        await CutAsync(context, writer, cut.Reason, cut.Error);
                    }
                    // Audit mode: the checks still running are recorded after the client has its answer.
                    await filter.DrainAsync();
                    return;
                }
            }
        }
        finally
        {
            moderation.ResponseDecision = filter.Terminal ?? filter.Outcome;
            moderation.StreamChecks = filter.CheckCount;
            moderation.StreamCacheHits = filter.CacheHits;
            moderation.ResponseText = text?.ToString();
            if (read is not null)
            {
                // The upstream read still pending is cancelled and observed before the body is disposed.
                await reading.CancelAsync();
                await ((Task)read).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private static Task WaitAsync(Task<SseEvent?>? read, StreamFilter filter)
    {
        var check = filter.NextCheck;
        var deadline = filter.HoldDeadline;
        if (check is null && deadline is null)
        {
            return read ?? Task.CompletedTask;
        }
        return read is null
            ? (deadline is null ? check! : check is null ? deadline : Task.WhenAny(check, deadline))
            : Task.WhenAny(new[] { read, check, deadline }.Where(t => t is not null)!);
    }

    /// <summary>Takes one upstream event into the filter; a failed read ends the upstream with the cut it calls for.</summary>
    private async Task ReadEventAsync(
        Task<SseEvent?> read, UpstreamProgress progress, IUpstreamStreamReader events, IClientStreamFormatter client, StreamFilter filter,
        List<string> payloads, System.Text.StringBuilder? text, CancellationToken aborted)
    {
        try
        {
            if (await read is not { } sse)
            {
                progress.Ended = true;
                return;
            }
            progress.Events++;
            if (events.Read(sse) is not { } delta)
            {
                return;
            }
            if (delta.Done)
            {
                progress.Ended = progress.SawDone = true;
                return;
            }
            if (delta.Usage is not null)
            {
                moderation.Usage = delta.Usage;
            }
            if (delta.FinishReason is not null)
            {
                moderation.FinishReason = delta.FinishReason;
            }
            text?.Append(delta.Text);
            client.OnDelta(delta, payloads);
            filter.Add(payloads, delta.Text, delta.ToolCallDeltas);
            payloads.Clear();
            return;
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            progress.Cut = (StreamCutReason.Idle, ApiErrors.StreamIdle(upstream.Name, upstream.Options.StreamIdleTimeout));
        }
        catch (SseFormatException)
        {
            // The reader's only format error: an event over its size limit.
            LogTooLarge(logger, upstream.Name, options.MaxStreamEventBytes);
            progress.Cut = (StreamCutReason.EventTooLarge, ApiErrors.StreamEventTooLarge(upstream.Name, options.MaxStreamEventBytes));
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException or UpstreamProtocolException)
        {
            LogUpstreamFailure(logger, upstream.Name, ex.GetType().Name);
            var malformed = ex is UpstreamProtocolException;
            progress.Cut = (malformed ? StreamCutReason.MalformedEvent : StreamCutReason.UpstreamFailed, ApiErrors.StreamFailed(upstream.Name, malformed));
        }
        progress.Ended = true;
    }

    /// <summary>How a stream that stopped sending ended: properly (null), or cut (docs/adr/005).</summary>
    private (StreamCutReason, ApiError)? EndOfStream(SseReader reader, IUpstreamStreamReader events, UpstreamProgress progress)
    {
        if (!progress.SawDone && reader.HadIncompleteEvent)
        {
            return (StreamCutReason.TruncatedEvent, ApiErrors.StreamTruncatedEvent(upstream.Name));
        }
        if (!events.Ended)
        {
            // A clean close without the protocol's end marker is still a cut: relaying it as finished would make a
            // truncated answer look complete.
            return progress.Events == 0
                ? (StreamCutReason.NoEvents, ApiErrors.StreamNoEvents(upstream.Name))
                : (StreamCutReason.NoEndMarker, ApiErrors.StreamEndMissing(upstream.Name));
        }
        return null;
    }

    private async Task WriteAsync(HttpContext context, SseWriter writer, List<string> output, CancellationToken cancellationToken)
    {
        if (output.Count == 0)
        {
            return;
        }
        var first = !context.Response.HasStarted;
        StartStream(context);
        foreach (var data in output)
        {
            await writer.WriteDataAsync(data, cancellationToken);
            if (first)
            {
                first = false;
                FirstBytesWritten();
            }
        }
        output.Clear();
    }

    /// <summary>Records the stream's time to first byte: from request start to the first SSE bytes written.</summary>
    private void FirstBytesWritten()
    {
        if (metrics.TimeToFirstByteEnabled)
        {
            metrics.StreamStarted(request.Api.ToString(), request.Model.Id, moderation.StreamMode ?? SemanticNames.StreamModes.None,
                time.GetElapsedTime(moderation.StartedAt));
        }
    }

    /// <summary>Ends a stream the response check stopped, with the API's terminal signal: OpenAI's last chunk with
    /// <c>finish_reason: "content_filter"</c>, or an error event (Workers AI: code 2017; a guard without a verdict under
    /// a closed policy: the guard-unavailable error), then <c>[DONE]</c>. Before anything was sent, a guard failure is
    /// a 503 response instead.</summary>
    private async Task StoppedAsync(HttpContext context, SseWriter writer, IClientStreamFormatter client, ModerationDecision decision)
    {
        var started = context.Response.HasStarted;
        LogStreamCut(logger, upstream.Name, StreamCutReason.Moderated, started);
        var policy = decision.Policy ?? "default";
        if (decision.GuardUnavailable && !started)
        {
            await WriteErrorAsync(context, ApiErrors.ResponseGuardUnavailable(policy, decision.Reason ?? "no verdict"));
            return;
        }
        var output = new List<string>(2);
        if (decision.GuardUnavailable || !client.TryWriteContentFilter(started, output))
        {
            var error = decision.GuardUnavailable
                ? ApiErrors.ResponseGuardUnavailable(policy, decision.Reason ?? "no verdict")
                : ApiErrors.ResponseBlocked(decision.Categories);
            output.Add(JsonText.String(json => ErrorWriter.Write(json, error, _workersAi)));
        }
        output.Add(SseEvent.DoneData);
        await WriteAsync(context, writer, output, context.RequestAborted);
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

    /// <summary>Ends a stream with an error: a JSON error response if nothing was sent yet, else an SSE error event
    /// in the client's format and no <c>[DONE]</c>, so clients can tell a cut stream from a finished one.</summary>
    private async Task CutAsync(HttpContext context, SseWriter? writer, StreamCutReason reason, ApiError error)
    {
        moderation.UpstreamFailed = true;
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

    /// <summary>How far the upstream stream got.</summary>
    private sealed class UpstreamProgress
    {
        public int Events { get; set; }

        public bool SawDone { get; set; }

        public bool Ended { get; set; }

        public (StreamCutReason Reason, ApiError Error)? Cut { get; set; }
    }
}
