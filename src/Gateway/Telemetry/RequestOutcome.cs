using Gateway.Moderation;
using O = Gateway.Telemetry.SemanticNames.Outcomes;

namespace Gateway.Telemetry;

/// <summary>The moderation outcome that decided a request, for the <c>outcome</c> tag of <c>gateway.requests</c>
/// and the API call's span: a block or closed failure of either check; else an error when the request failed for
/// another reason; else the strictest of the checks' outcomes (fail-open, flagged, allowed), or not-checked.</summary>
internal static class RequestOutcome
{
    /// <summary>The outcome of a finished request.</summary>
    /// <param name="context">What moderation knew; null when the request failed before moderation (invalid input).</param>
    /// <param name="status">The HTTP status the client got.</param>
    public static string Of(ModerationContext? context, int status)
    {
        var prompt = context?.PromptDecision?.Outcome;
        var response = context?.ResponseDecision?.Outcome;
        if (context?.StreamMode == SemanticNames.StreamModes.Audit)
        {
            // Audit mode records a stream's checks without enforcing them: the client got the answer.
            response = response switch
            {
                O.Blocked => O.Flagged,
                O.FailClosed => O.FailOpen,
                _ => response,
            };
        }
        var worst = Rank(prompt) >= Rank(response) ? prompt : response;
        if (worst is O.Blocked or O.FailClosed)
        {
            return worst;
        }
        if (context is null || status >= 400 || context.UpstreamFailed)
        {
            return O.Error;
        }
        return worst ?? O.NotChecked;
    }

    /// <summary>How strict an outcome is: blocked, fail-closed, fail-open, flagged, allowed, then anything else.</summary>
    public static int Rank(string? outcome) => outcome switch
    {
        O.Blocked => 5,
        O.FailClosed => 4,
        O.FailOpen => 3,
        O.Flagged => 2,
        O.Allowed => 1,
        _ => 0,
    };
}

/// <summary>The tag value of a policy's streaming mode.</summary>
internal static class StreamModes
{
    /// <summary>The mode's tag value; <see cref="SemanticNames.StreamModes.None"/> when the stream is not checked.</summary>
    public static string Of(Policies.StreamingMode? mode) => mode switch
    {
        Policies.StreamingMode.Windowed => SemanticNames.StreamModes.Windowed,
        Policies.StreamingMode.Buffered => SemanticNames.StreamModes.Buffered,
        Policies.StreamingMode.Audit => SemanticNames.StreamModes.Audit,
        _ => SemanticNames.StreamModes.None,
    };
}
