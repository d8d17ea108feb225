using Gateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.FunctionalTests.OfficialClients;

/// <summary>Checks and upstream scripts shared by the official-client tests.</summary>
internal static class OfficialClientAssertions
{
    /// <summary>Every upstream request carried the gateway's token and nothing of the client's credential.</summary>
    public static void UpstreamSawOnlyGatewayCredentials(IReadOnlyList<ReceivedRequest> received, string clientCredential)
    {
        Assert.NotEmpty(received);
        Assert.All(received, r =>
        {
            Assert.Equal("Bearer upstream-secret-token", r.Headers["Authorization"]);
            Assert.DoesNotContain(r.Headers, h => h.Value.Contains(clientCredential, StringComparison.Ordinal)
                || h.Key.Contains(clientCredential, StringComparison.Ordinal));
            Assert.DoesNotContain(clientCredential, r.Body, StringComparison.Ordinal);
            Assert.DoesNotContain(clientCredential, r.Path, StringComparison.Ordinal);
        });
    }

    /// <summary>An upstream that sends one token, then ends its body in the middle of the next event.</summary>
    internal static Func<HttpContext, string, Task> CutAfterOneToken(string kind) => async (context, _) =>
    {
        context.Response.ContentType = "text/event-stream";
        await ScriptedUpstream.WriteEventAsync(context, kind == "WorkersAi"
            ? """{"response":"partial"}"""
            : """{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"partial"},"finish_reason":null}]}""");
        await context.Response.WriteAsync("data: {\"response\":\"cut");
    };
}
