using Guard.Engines;
using Guard.Onnx.Engine;

namespace Gateway.Guarding;

/// <summary>Which guard engine classifies traffic (<c>Guard</c> section).</summary>
public sealed class GuardOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Guard";

    /// <summary>The engine: <c>None</c>, <c>Onnx</c> (local), <c>WorkersAi</c> (remote Workers AI) or <c>OpenAi</c> (remote OpenAI-compatible server).</summary>
    public GuardEngineKind Engine { get; set; } = GuardEngineKind.None;

    /// <summary>Settings of the local ONNX Runtime engine.</summary>
    public OnnxGuardEngineOptions Onnx { get; set; } = new();

    /// <summary>Settings of a remote engine.</summary>
    public RemoteGuardOptions Remote { get; set; } = new();

    /// <summary>A model directory whose tokenizer makes remote truncation exact; without it tokens are estimated.</summary>
    public string? TokenizerPath { get; set; }
}

/// <summary>Guard engine kinds.</summary>
public enum GuardEngineKind
{
    /// <summary>No guard engine: the served Llama Guard model and <c>/v1/moderations</c> answer 503.</summary>
    None,

    /// <summary>Llama Guard on ONNX Runtime in the gateway's process (CPU or CUDA).</summary>
    Onnx,

    /// <summary>Llama Guard on Cloudflare Workers AI.</summary>
    WorkersAi,

    /// <summary>Llama Guard on an OpenAI-compatible server (vLLM).</summary>
    OpenAi,
}
