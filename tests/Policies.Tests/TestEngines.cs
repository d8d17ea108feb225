using Guard.Prompts;

namespace Policies.Tests;

/// <summary>A stub engine set: what the gateway would report about its engines, with no engine behind it.</summary>
internal static class TestEngines
{
    /// <summary>onnx (LG1, probabilities, the default), workers-ai (LG1, no probabilities), lg3 (LG3, probabilities).</summary>
    public static PolicyEngines Default { get; } = new(
        new Dictionary<string, PolicyEngineInfo>
        {
            ["onnx"] = new(GuardFamily.LlamaGuard1, ReportsUnsafeProbability: true),
            ["workers-ai"] = new(GuardFamily.LlamaGuard1, ReportsUnsafeProbability: false),
            ["lg3"] = new(GuardFamily.LlamaGuard3, ReportsUnsafeProbability: true),
        },
        defaultEngine: "onnx");

    /// <summary>One LG1 engine without probabilities, as a gateway with only the Workers AI guard.</summary>
    public static PolicyEngines WorkersAiOnly { get; } = new(
        new Dictionary<string, PolicyEngineInfo> { ["remote-workers-ai"] = new(GuardFamily.LlamaGuard1, false) });
}
