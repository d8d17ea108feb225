using System.Text.Json;
using Gateway.Generation;

namespace Gateway.Upstreams;

/// <summary>Writes the sampling parameters that were given (never defaults) in snake_case.</summary>
internal static class SamplingJson
{
    public static void Write(Utf8JsonWriter json, SamplingParameters s, bool extended)
    {
        if (s.Temperature is { } t) { json.WriteNumber("temperature", t); }
        if (s.TopP is { } p) { json.WriteNumber("top_p", p); }
        if (s.Seed is { } seed) { json.WriteNumber("seed", seed); }
        if (s.FrequencyPenalty is { } f) { json.WriteNumber("frequency_penalty", f); }
        if (s.PresencePenalty is { } pr) { json.WriteNumber("presence_penalty", pr); }
        if (extended)
        {
            if (s.TopK is { } k) { json.WriteNumber("top_k", k); }
            if (s.RepetitionPenalty is { } rp) { json.WriteNumber("repetition_penalty", rp); }
        }
    }
}
