using System.Net;
using Gateway.Errors;
using Gateway.Moderation;
using Gateway.Pipeline;
using Gateway.Tests.Tokens;
using Microsoft.AspNetCore.Http;
using Policies;
using Policies.Model;

namespace Gateway.Tests.Pipeline;

/// <summary>The pipeline's steps one at a time: the prompt check step's three ways out, and the audit record.</summary>
public sealed class StepTests
{
    private const string Secret = "SECRET-PROMPT-TEXT";

    [Fact]
    public async Task PromptCheck_Allowed_LetsTheNextStepRun_AndKeepsTheDecision()
    {
        var decision = ModerationDecision.Allow with { Policy = "p", Outcome = "flagged", Categories = ["S1"] };
        using var request = TestRequests.WorkersAiRequest($$"""{"prompt":"{{Secret}}"}""");
        var context = new ModerationContext(new DefaultHttpContext(), request);

        Assert.True(await new PromptCheckStep(new FixedModerator(decision)).RunAsync(context));
        Assert.Same(decision, context.PromptDecision);
    }

    [Theory]
    [InlineData(false, HttpStatusCode.BadRequest, ApiErrorKind.PromptBlocked)]
    [InlineData(true, HttpStatusCode.ServiceUnavailable, ApiErrorKind.Unavailable)]
    public async Task PromptCheck_BlockedOrFailedClosed_StopsThePipeline_WithTheSurfacesError(bool guardUnavailable, HttpStatusCode status, ApiErrorKind kind)
    {
        var decision = ModerationDecision.Block("unsafe", ["S1"]) with { Policy = "p", Outcome = "blocked", GuardUnavailable = guardUnavailable };
        using var request = TestRequests.WorkersAiRequest($$"""{"prompt":"{{Secret}}"}""");
        var context = new ModerationContext(new DefaultHttpContext(), request);

        var ex = await Assert.ThrowsAsync<ApiException>(() => new PromptCheckStep(new FixedModerator(decision)).RunAsync(context).AsTask());
        Assert.Equal(status, ex.Error.Status);
        Assert.Equal(kind, ex.Error.Kind);
        Assert.DoesNotContain(Secret, ex.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Audit_RecordsPolicyOutcomesAndCategories_WithoutContent()
    {
        using var request = TestRequests.WorkersAiRequest($$"""{"prompt":"{{Secret}}"}""");
        var http = new DefaultHttpContext { TraceIdentifier = "req-42" };
        var context = new ModerationContext(http, request)
        {
            Policy = PolicyDefaults.BuiltIn(PolicyEngines.None, DateTimeOffset.UnixEpoch).Select(PolicyRoutes.WorkersAi, request.Model.Id, null),
            PromptDecision = ModerationDecision.Allow with { Outcome = "flagged", Categories = ["S1", "S2"] },
            ResponseDecision = ModerationDecision.Block("unsafe", ["S9"]) with { Outcome = "blocked" },
            StreamChecks = 3,
        };
        var logger = new ListLogger<AuditStep>();

        new AuditStep(logger).Record(context, 200);

        var (_, message) = Assert.Single(logger.Entries);
        Assert.Contains(PolicyDefaults.BuiltInName, message, StringComparison.Ordinal);
        Assert.Contains("req-42", message, StringComparison.Ordinal);
        Assert.Contains("prompt flagged [S1,S2] action allow cache none", message, StringComparison.Ordinal);
        Assert.Contains("response blocked [S9] action block", message, StringComparison.Ordinal);
        Assert.Contains("checks 3 (0 from the cache)", message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, message, StringComparison.Ordinal);
    }

    [Fact]
    public void Audit_OfAnExemptRequest_RecordsNothing()
    {
        using var request = TestRequests.WorkersAiRequest("""{"prompt":"hi"}""");
        var logger = new ListLogger<AuditStep>();

        new AuditStep(logger).Record(new ModerationContext(new DefaultHttpContext(), request), 200);

        Assert.Empty(logger.Entries);
    }

    private sealed class FixedModerator(ModerationDecision decision) : IPromptModerator
    {
        public ValueTask<ModerationDecision> CheckPromptAsync(ModerationContext context, CancellationToken cancellationToken) => ValueTask.FromResult(decision);
    }
}
