using System.Net;
using Gateway.FunctionalTests.BadInput;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.FunctionalTests.Faults;

/// <summary>Upstream error text reaches the client only for client faults (docs/adr/002), and never with the gateway's
/// configured credentials in it.</summary>
public sealed class UpstreamErrorTextTests
{
    private const string UpstreamToken = "upstream-secret-token";
    private const string GuardToken = "guard-remote-secret-token";
    private const string HeaderSecret = "yarp-header-secret-value";
    private const string Detail = "internal detail zq-7731";

    public static TheoryData<string, Surface, int> EchoRows
    {
        get
        {
            var data = new TheoryData<string, Surface, int>();
            foreach (var (kind, surface) in FaultClient.AllPairs.Select(row => ((string)row[0], (Surface)row[1])))
            {
                data.Add(kind, surface, 400);
                data.Add(kind, surface, 429);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(EchoRows))]
    public async Task UpstreamEchoingItsAuthorizationHeader_DoesNotLeakTheToken(string kind, Surface surface, int status)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = (context, _) => RetryAfterTests.WriteErrorAsync(context, kind, status,
            $"Bad credentials? You sent 'Authorization: {context.Request.Headers.Authorization}'; other keys: {GuardToken}, {HeaderSecret}.");
        var config = GatewayServer.RouteAllTo(upstream, kind, UpstreamToken);
        // Other credentials in the configuration: a remote guard token and a header a YARP transform sets.
        config["Guard:Remote:ApiToken"] = GuardToken;
        config["ReverseProxy:Routes:passthrough:ClusterId"] = "backend";
        config["ReverseProxy:Routes:passthrough:Match:Path"] = "/passthrough/{**rest}";
        config["ReverseProxy:Routes:passthrough:Transforms:0:RequestHeader"] = "api-key";
        config["ReverseProxy:Routes:passthrough:Transforms:0:Set"] = HeaderSecret;
        await using var gateway = await GatewayServer.StartAsync(config);

        using var response = await gateway.Client.SendAsync(FaultClient.Request(surface, stream: status == 429));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal("Bearer " + UpstreamToken, upstream.LastRequest.Headers["Authorization"]);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.DoesNotContain(UpstreamToken, body, StringComparison.Ordinal);
        Assert.DoesNotContain(GuardToken, body, StringComparison.Ordinal);
        Assert.DoesNotContain(HeaderSecret, body, StringComparison.Ordinal);
        Assert.Contains("You sent 'Authorization: Bearer [redacted]'; other keys: [redacted], [redacted].", body, StringComparison.Ordinal);
    }

    public static TheoryData<string, Surface, int> StatusRows
    {
        get
        {
            var data = new TheoryData<string, Surface, int>();
            foreach (var (kind, surface) in FaultClient.EachSurface.Select(row => ((string)row[0], (Surface)row[1])))
            {
                foreach (var status in new[] { 400, 413, 422, 429, 500, 502, 503 })
                {
                    data.Add(kind, surface, status);
                }
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(StatusRows))]
    public async Task UpstreamText_IsRelayedForClientFaultsOnly(string kind, Surface surface, int status)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = (context, _) => RetryAfterTests.WriteErrorAsync(context, kind, status, Detail);
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));

        using var response = await gateway.Client.SendAsync(FaultClient.Request(surface, stream: false));

        var (expected, workersAiCode, openAiCode) = status switch
        {
            400 or 422 => (HttpStatusCode.BadRequest, 5006, null),
            413 => (HttpStatusCode.RequestEntityTooLarge, 3006, "request_too_large"),
            429 => (HttpStatusCode.TooManyRequests, 9004, "unavailable"),
            503 => (HttpStatusCode.ServiceUnavailable, 9004, "unavailable"),
            _ => (HttpStatusCode.BadGateway, 9001, (string?)"upstream_error"),
        };
        var message = await FaultClient.AssertErrorResponseAsync(response, surface, expected, workersAiCode, openAiCode);
        if (status is 400 or 413 or 422 or 429)
        {
            Assert.Contains(Detail, message, StringComparison.Ordinal);
        }
        else
        {
            Assert.DoesNotContain(Detail, message, StringComparison.Ordinal);
            Assert.Contains($"(HTTP {status})", message, StringComparison.Ordinal);
        }
    }
}
