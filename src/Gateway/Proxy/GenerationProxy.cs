using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Gateway.Configuration;
using Gateway.Demo;
using Gateway.Errors;
using Gateway.Formatting;
using Gateway.Generation;
using Gateway.Guarding;
using Gateway.InProcess;
using Gateway.Moderation;
using Gateway.Telemetry;
using Gateway.Upstreams;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Proxy;

/// <summary>The upstream step's work: forwarding through YARP to the model's upstream, then the response path
/// (<see cref="GenerationResponder"/>), where the response check or the stream filter runs.</summary>
internal sealed partial class GenerationProxy(
    IHttpForwarder forwarder,
    IProxyStateLookup proxyState,
    UpstreamRegistry upstreams,
    DemoBackend demoBackend,
    GuardBackend guardBackend,
    IResponseModerator responseModerator,
    OpenAiFormatter openAiFormatter,
    IOptions<GatewayOptions> options,
    IConfiguration configuration,
    TimeProvider time,
    GatewayMetrics metrics,
    ILogger<GenerationProxy> logger) : IDisposable
{
    private const string InProcessPrefix = "http://in-process.invalid";
    private readonly HttpMessageInvoker _demoInvoker = new(new InProcessUpstreamHandler(demoBackend, time));
    private readonly HttpMessageInvoker _guardInvoker = new(new InProcessUpstreamHandler(guardBackend, time));
    private readonly ConcurrentDictionary<string, ForwarderRequestConfig> _configs = new(StringComparer.Ordinal);
    private SecretRedactor? _redactor;

    // Built on first use, from the same configuration as the upstreams; a race builds two equal redactors.
    private SecretRedactor Redactor => _redactor ??= SecretRedactor.FromConfiguration(configuration, upstreams.Upstreams.Select(u => u.Options));

    public void Dispose()
    {
        _demoInvoker.Dispose();
        _guardInvoker.Dispose();
    }

    /// <summary>Forwards a request whose prompt passed, and answers the client through <see cref="GenerationResponder"/>.</summary>
    public async Task ForwardAsync(ModerationContext moderation)
    {
        var (context, request) = (moderation.HttpContext, moderation.Request);
        var upstream = upstreams.Resolve(request.Model);
        var call = upstream.Protocol.Prepare(request, upstream.Options);
        var (prefix, invoker, clusterConfig) = ResolveDestination(upstream);
        ReplaceBody(context.Request, call.Body);

        IClientFormatter formatter = request.Api.IsWorkersAi() ? WorkersAiFormatter.Instance : openAiFormatter;
        var responder = new GenerationResponder(request, upstream, moderation, responseModerator, formatter, options.Value, Redactor, time, metrics, logger);
        var transformer = new GenerationTransformer(upstream, call, translated: !responder.Native, responder.RespondAsync);
        if (!_configs.TryGetValue(upstream.Name, out var config))
        {
            config = _configs.GetOrAdd(upstream.Name, clusterConfig is { ActivityTimeout: not null }
                ? clusterConfig
                : (clusterConfig ?? ForwarderRequestConfig.Empty) with { ActivityTimeout = upstream.Options.ResponseTimeout });
        }

        // The forwarded exchange, the upstream's HTTP call and the response check or stream filter beneath it.
        using var span = GatewayMetrics.ActivitySource.HasListeners()
            ? GatewayMetrics.ActivitySource.StartActivity(SemanticNames.Gateway.UpstreamSpan + " " + upstream.Name, ActivityKind.Internal)
            : null;
        span?.SetTag(SemanticNames.Gateway.Upstream, upstream.Name);
        var error = await forwarder.SendAsync(context, prefix, invoker, config, transformer);
        if (error == ForwarderError.None || transformer.Responded || context.RequestAborted.IsCancellationRequested)
        {
            return;
        }
        LogForwardError(logger, upstream.Name, error, context.Features.Get<IForwarderErrorFeature>()?.Exception?.GetType().Name);
        span?.SetTag(SemanticNames.General.ErrorType, error.ToString());
        span?.SetStatus(ActivityStatusCode.Error, error.ToString());
        throw new ApiException(error == ForwarderError.RequestTimedOut
            ? ApiErrors.UpstreamTimeout(upstream.Name, upstream.Options.ResponseTimeout)
            : ApiErrors.UpstreamUnreachable(upstream.Name, error));
    }

    private (string Prefix, HttpMessageInvoker Invoker, ForwarderRequestConfig? Config) ResolveDestination(Upstream upstream)
    {
        if (upstream.Options.Kind.IsInProcess())
        {
            return (InProcessPrefix, upstream.Options.Kind == UpstreamKind.Demo ? _demoInvoker : _guardInvoker, null);
        }
        if (!proxyState.TryGetCluster(upstream.ClusterId, out var cluster) || cluster.Model.HttpClient is not { } client)
        {
            throw new ApiException(ApiErrors.UpstreamNotLoaded(upstream.Name, upstream.ClusterId));
        }
        var destinations = cluster.DestinationsState.AvailableDestinations;
        if (destinations.Count == 0)
        {
            throw new ApiException(ApiErrors.UpstreamNoHealthyDestination(upstream.Name));
        }
        var destination = destinations[upstream.NextIndex(destinations.Count)];
        return (destination.Model.Config.Address, client, cluster.Model.Config.HttpRequest);
    }

    private static void ReplaceBody(HttpRequest request, ReadOnlyMemory<byte> body)
    {
        // The body was consumed for validation; YARP forwards whatever Request.Body holds now.
        request.Body = MemoryMarshal.TryGetArray(body, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(body.ToArray(), writable: false);
        request.ContentLength = body.Length;
        request.Headers.TransferEncoding = default;
        request.ContentType = "application/json";
    }

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Forwarding to upstream {Upstream} failed: {Error} ({ExceptionType})")]
    private static partial void LogForwardError(ILogger logger, string upstream, ForwarderError error, string? exceptionType);
}
