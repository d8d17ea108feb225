using System.Net;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Gateway.Moderation;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.FunctionalTests.BadInput;

/// <summary>A failure nobody anticipated still answers in the caller's envelope (500), never as an empty 500.</summary>
public sealed class UnexpectedFailureTests
{
    [Theory]
    [InlineData("ai/run/@cf/meta/llama-2-7b-chat-fp16", """{"prompt":"hi"}""", true)]
    [InlineData("v1/chat/completions", """{"model":"@cf/meta/llama-2-7b-chat-fp16","messages":[{"role":"user","content":"hi"}]}""", false)]
    public async Task UnhandledException_Gets500_InTheSurfacesEnvelope(string path, string body, bool workersAi)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, "OpenAi"),
            services => services.AddSingleton<IPromptModerator, ThrowingModerator>());
        using var response = await gateway.Client.SendAsync(ProxyRoundTripTests.Post(path, body));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var root = JsonDocument.Parse(text).RootElement;
        if (workersAi)
        {
            Assert.False(root.GetProperty("success").GetBoolean());
            Assert.Equal(9005, root.GetProperty("errors")[0].GetProperty("code").GetInt32());
        }
        else
        {
            Assert.Equal("api_error", root.GetProperty("error").GetProperty("type").GetString());
            Assert.Equal("internal_error", root.GetProperty("error").GetProperty("code").GetString());
        }
        Assert.DoesNotContain(ThrowingModerator.Secret, text, StringComparison.Ordinal);
        Assert.Empty(upstream.Received);

        // The failure was one request's: the next one is handled the same way, and health is unaffected.
        using var health = await gateway.Client.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    private sealed class ThrowingModerator : IPromptModerator
    {
        public const string Secret = "moderator-internal-detail";

        public ValueTask<ModerationDecision> CheckPromptAsync(ModerationContext context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException(Secret);
    }
}
