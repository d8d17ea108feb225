using System.Text.Json;
using Gateway.Generation;
using Gateway.Sse;

namespace Gateway.Upstreams;

/// <summary>The request an upstream receives: path (with query) under the destination, and the JSON body.</summary>
public sealed record UpstreamRequest(string PathAndQuery, ReadOnlyMemory<byte> Body);

/// <summary>One upstream wire protocol: how a normalized request becomes an upstream call, and how its
/// answers (bodies, stream events, errors) are read back.</summary>
public interface IUpstreamProtocol
{
    /// <summary>The protocol's kind.</summary>
    UpstreamKind Kind { get; }

    /// <summary>Builds the upstream call; throws <see cref="Errors.ApiException"/> when the request cannot be expressed.</summary>
    UpstreamRequest Prepare(GenerationRequest request, UpstreamOptions options);

    /// <summary>Reads a successful non-streamed body; throws <see cref="UpstreamProtocolException"/> when malformed.</summary>
    GenerationResult ReadResult(JsonElement root);

    /// <summary>Starts reading one stream.</summary>
    IUpstreamStreamReader CreateStreamReader();

    /// <summary>Extracts the upstream's error message from an error body, if it has one.</summary>
    string? ReadErrorMessage(JsonElement root);
}

/// <summary>Reads the events of one upstream stream (may keep state across events, such as partial tool calls).</summary>
public interface IUpstreamStreamReader
{
    /// <summary>Reads one event; null when the event carries nothing to relay (keep-alives, unknown types).</summary>
    StreamDelta? Read(SseEvent sseEvent);

    /// <summary>Whether the events read so far include the protocol's proper end (docs/adr/005): <c>[DONE]</c>, or for
    /// OpenAI-compatible upstreams also a choice with a <c>finish_reason</c>. A stream that closes without it was cut.</summary>
    bool Ended { get; }
}

/// <summary>The upstream answered with something that does not follow its protocol.</summary>
public sealed class UpstreamProtocolException(string message, Exception? inner = null) : Exception(message, inner);
