using Gateway.Generation;
using Gateway.Moderation;
using Gateway.Telemetry;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Telemetry;

/// <summary>The <c>outcome</c> of <c>gateway.requests</c>: the moderation outcome that decided the request.</summary>
public sealed class RequestOutcomeTests
{
    private static readonly GenerationRequest Request = TestRequests.WorkersAiRequest("""{"prompt":"hi"}""");

    [Theory]
    [InlineData(null, null, null, 400, "error")]
    [InlineData("blocked", null, null, 400, "blocked")]
    [InlineData("fail-closed", null, null, 503, "fail-closed")]
    [InlineData("allowed", "blocked", null, 200, "blocked")]
    [InlineData("allowed", "blocked", "windowed", 200, "blocked")]
    [InlineData("allowed", "blocked", "audit", 200, "flagged")]
    [InlineData("allowed", "fail-closed", "audit", 200, "fail-open")]
    [InlineData("fail-open", "allowed", null, 200, "fail-open")]
    [InlineData("allowed", "flagged", null, 200, "flagged")]
    [InlineData("allowed", "allowed", null, 200, "allowed")]
    [InlineData("allowed", null, null, 502, "error")]
    [InlineData("not-checked", "not-checked", null, 200, "not-checked")]
    [InlineData(null, null, "none", 200, "not-checked")]
    public void TheStrictestCheck_ThenErrors_ThenTheRest(string? prompt, string? response, string? streamMode, int status, string expected)
    {
        Assert.Equal(expected, RequestOutcome.Of(Context(prompt, response, streamMode), status));
    }

    [Fact]
    public void NoModeration_IsAnError_AndACutStreamToo()
    {
        Assert.Equal("error", RequestOutcome.Of(null, 200));
        var cut = Context("allowed", "allowed", "windowed");
        cut.UpstreamFailed = true;
        Assert.Equal("error", RequestOutcome.Of(cut, 200));
    }

    private static ModerationContext Context(string? prompt, string? response, string? streamMode) =>
        new(new DefaultHttpContext(), Request)
        {
            PromptDecision = prompt is null ? null : Decision(prompt),
            ResponseDecision = response is null ? null : Decision(response),
            StreamMode = streamMode,
        };

    private static ModerationDecision Decision(string outcome) =>
        new(outcome is not ("blocked" or "fail-closed")) { Outcome = outcome };
}
