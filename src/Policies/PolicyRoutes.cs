using System.Collections.Frozen;

namespace Policies;

/// <summary>The API surfaces a policy selector can name in <c>match.routes</c>.</summary>
public static class PolicyRoutes
{
    /// <summary>Workers AI: <c>/ai/run/{model}</c> and <c>/client/v4/accounts/{id}/ai/run/{model}</c>.</summary>
    public const string WorkersAi = "workers-ai";

    /// <summary>OpenAI chat completions: <c>/v1/chat/completions</c>.</summary>
    public const string OpenAiChat = "openai-chat";

    /// <summary>OpenAI text completions: <c>/v1/completions</c>.</summary>
    public const string OpenAiCompletions = "openai-completions";

    /// <summary>Every route name, compared ignoring case.</summary>
    public static FrozenSet<string> All { get; } =
        FrozenSet.Create(StringComparer.OrdinalIgnoreCase, WorkersAi, OpenAiChat, OpenAiCompletions);
}
