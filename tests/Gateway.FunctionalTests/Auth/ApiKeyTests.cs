using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Auth;
using Gateway.FunctionalTests.Infrastructure;
using Gateway.Moderation;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.FunctionalTests.Auth;

/// <summary>API keys over real sockets: no key or an unknown one is a 401 in the surface's format and never reaches
/// the upstream; a configured key is served under its tenant.</summary>
public sealed class ApiKeyTests
{
    private const string TeamAKey = "gw-team-a-7f3c1e9b";
    private const string TeamBKey = "gw-team-b-0d4a8c62";
    private const string Model = "@cf/meta/llama-2-7b-chat-fp16";

    public static TheoryData<string, string> Routes => new()
    {
        { $"ai/run/{Model}", """{"prompt":"hi"}""" },
        { $"client/v4/accounts/acct/ai/run/{Model}", """{"prompt":"hi"}""" },
        { "v1/chat/completions", $$"""{"model":"{{Model}}","messages":[{"role":"user","content":"hi"}]}""" },
        { "v1/completions", $$"""{"model":"{{Model}}","prompt":"hi"}""" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task NoKey_Or_UnknownKey_Is401InTheSurfacesFormat_AndTheUpstreamSeesNothing(string path, string body)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var gateway = await GatewayServer.StartAsync(WithKeys(GatewayServer.RouteAllTo(upstream, "OpenAi")));
        var workersAi = !path.StartsWith("v1/", StringComparison.Ordinal);

        foreach (var key in new[] { null, "gw-not-a-key", TeamAKey + "x", "" })
        {
            using var request = ProxyRoundTripTests.Post(path, body);
            if (key is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
            }
            using var response = await gateway.Client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
            using var json = JsonDocument.Parse(text);
            if (workersAi)
            {
                Assert.False(json.RootElement.GetProperty("success").GetBoolean());
                Assert.Equal(10000, json.RootElement.GetProperty("errors")[0].GetProperty("code").GetInt32());
            }
            else
            {
                Assert.Equal("invalid_api_key", json.RootElement.GetProperty("error").GetProperty("code").GetString());
            }
            if (!string.IsNullOrEmpty(key))
            {
                Assert.DoesNotContain(key, text, StringComparison.Ordinal);
            }
        }
        Assert.Empty(upstream.Received);
        Assert.DoesNotContain(CapturingLoggerProvider.Instance.Lines, l => l.Contains(TeamAKey, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task ConfiguredKey_IsServed_UnderItsTenant(string path, string body)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        var recorder = new CallerRecorder();
        await using var gateway = await GatewayServer.StartAsync(WithKeys(GatewayServer.RouteAllTo(upstream, "OpenAi")),
            services => services.AddSingleton<IPromptModerator>(recorder));

        foreach (var (key, tenant) in new[] { (TeamAKey, "team-a"), (TeamBKey, "team-b") })
        {
            using var request = ProxyRoundTripTests.Post(path, body);
            // The scheme is case-insensitive, as RFC 9110 says.
            request.Headers.Authorization = new AuthenticationHeaderValue(tenant == "team-a" ? "Bearer" : "bearer", key);
            using var response = await gateway.Client.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(tenant, recorder.Callers.Last()?.Tenant);
        }
        Assert.Equal(2, upstream.Received.Count);
        // The client's key is the gateway's credential, never the upstream's.
        Assert.All(upstream.Received, r => Assert.Equal("Bearer upstream-secret-token", r.Headers["Authorization"]));
    }

    [Fact]
    public async Task AuthOff_ServesWithoutAKey_AndHealthNeverNeedsOne()
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        await using var open = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, "OpenAi"));
        await using var locked = await GatewayServer.StartAsync(WithKeys(GatewayServer.RouteAllTo(upstream, "OpenAi")));

        using var served = await open.Client.SendAsync(ProxyRoundTripTests.Post($"ai/run/{Model}", """{"prompt":"hi"}"""));
        using var health = await locked.Client.GetAsync("/healthz");
        using var ready = await locked.Client.GetAsync("/readyz");

        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains(CapturingLoggerProvider.Instance.Lines, l => l.Contains("Authentication: off (Auth:Mode is None)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InvalidConfiguration_StopsStartUp_WithEveryProblem()
    {
        var config = new Dictionary<string, string?>
        {
            ["Auth:Mode"] = "ApiKeys",
            ["Auth:Keys:0:Sha256"] = TeamAKey,
            ["Auth:Keys:1:Sha256"] = Sha256(TeamBKey),
        };

        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => GatewayServer.StartAsync(config));

        Assert.Contains("Auth:Keys:0:Sha256 must be the 64 hexadecimal digits", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Auth:Keys:0:Tenant must name the tenant", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Auth:Keys:1:Tenant must name the tenant", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(TeamBKey, ex.Message, StringComparison.Ordinal);
    }

    private static Dictionary<string, string?> WithKeys(Dictionary<string, string?> config)
    {
        config["Auth:Mode"] = "ApiKeys";
        config["Auth:Keys:0:Sha256"] = Sha256(TeamAKey);
        config["Auth:Keys:0:Tenant"] = "team-a";
        config["Auth:Keys:0:Name"] = "team-a-app";
        config["Auth:Keys:1:Sha256"] = Sha256(TeamBKey).ToLowerInvariant();
        config["Auth:Keys:1:Tenant"] = "team-b";
        return config;
    }

    private static string Sha256(string key) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private sealed class CallerRecorder : IPromptModerator
    {
        public List<CallerIdentity?> Callers { get; } = [];

        public ValueTask<ModerationDecision> CheckPromptAsync(ModerationContext context, CancellationToken cancellationToken)
        {
            Callers.Add(context.HttpContext.Features.Get<CallerIdentity>());
            return ValueTask.FromResult(ModerationDecision.Allow);
        }
    }
}
