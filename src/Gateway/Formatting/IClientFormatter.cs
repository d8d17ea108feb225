using Gateway.Generation;
using Gateway.Upstreams;

namespace Gateway.Formatting;

/// <summary>Writes results and stream events in the client's API shape.</summary>
internal interface IClientFormatter
{
    /// <summary>Serializes a complete result as the response body.</summary>
    byte[] FormatResult(GenerationRequest request, GenerationResult result, bool native);

    /// <summary>Starts formatting one stream.</summary>
    IClientStreamFormatter CreateStream(GenerationRequest request, bool native);
}

/// <summary>Turns upstream stream events into the client's SSE data payloads; may keep state (ids, roles sent).</summary>
internal interface IClientStreamFormatter
{
    /// <summary>Appends the data payloads for one upstream event (none, one or several).</summary>
    void OnDelta(StreamDelta delta, List<string> output);

    /// <summary>Appends the closing payloads, ending with <c>[DONE]</c>.</summary>
    void OnEnd(List<string> output);

    /// <summary>Appends the API's own "content filtered" end of a stream, when it has one (OpenAI: a last chunk with
    /// <c>finish_reason: "content_filter"</c>); returns false when the API signals it with an error event instead.</summary>
    /// <param name="started">Whether the client already received events (else the chunk also carries the role).</param>
    /// <param name="output">Receives the payloads, without <c>[DONE]</c>.</param>
    bool TryWriteContentFilter(bool started, List<string> output);
}
