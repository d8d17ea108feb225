using System.Net;
using System.Text;
using Gateway.FunctionalTests.BadInput;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.FunctionalTests.Faults;

/// <summary>A non-streamed answer whose body stalls or drips past <c>ResponseBodyTimeout</c> is answered with 504 in
/// the client's envelope instead of hanging.</summary>
public sealed class UnaryBodyDeadlineTests
{
    public enum Misbehaviour
    {
        StallAfterHeaders,
        StallMidBody,
        Drip,
    }

    [Theory]
    [MemberData(nameof(FaultClient.AllPairs), MemberType = typeof(FaultClient))]
    public Task UpstreamStallsAfterHeaders_Answers504(string kind, Surface surface) =>
        AssertDeadlineAsync(kind, surface, Misbehaviour.StallAfterHeaders);

    [Theory]
    [MemberData(nameof(FaultClient.EachSurface), MemberType = typeof(FaultClient))]
    public Task UpstreamStallsMidBody_Answers504(string kind, Surface surface) =>
        AssertDeadlineAsync(kind, surface, Misbehaviour.StallMidBody);

    [Theory]
    [MemberData(nameof(FaultClient.EachSurface), MemberType = typeof(FaultClient))]
    public Task UpstreamDripsItsBody_HitsTheTotalDeadline_Answers504(string kind, Surface surface) =>
        AssertDeadlineAsync(kind, surface, Misbehaviour.Drip);

    private static async Task AssertDeadlineAsync(string kind, Surface surface, Misbehaviour misbehaviour)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = (context, _) => MisbehaveAsync(context, kind, misbehaviour);
        var config = GatewayServer.RouteAllTo(upstream, kind);
        config["Gateway:Upstreams:backend:ResponseBodyTimeout"] = "00:00:01";
        await using var gateway = await GatewayServer.StartAsync(config);
        using var client = FaultClient.ClientFor(gateway.BaseAddress);

        using var response = await client.SendAsync(FaultClient.Request(surface, stream: false));

        var message = await FaultClient.AssertErrorResponseAsync(response, surface, HttpStatusCode.GatewayTimeout, 3007, "upstream_timeout");
        Assert.Contains("did not send its whole response within 1 s", message, StringComparison.Ordinal);
    }

    private static async Task MisbehaveAsync(HttpContext context, string kind, Misbehaviour misbehaviour)
    {
        // The start of a well-formed answer in the upstream's protocol; never finished.
        var start = kind == "WorkersAi"
            ? """{"result":{"response":"Scripted upstream """
            : """{"id":"up-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Scripted upstream """;
        switch (misbehaviour)
        {
            case Misbehaviour.StallAfterHeaders:
                await ScriptedUpstream.StallAfterHeadersAsync(context, 200, "application/json");
                break;
            case Misbehaviour.StallMidBody:
                context.Response.ContentType = "application/json";
                context.Response.ContentLength = Encoding.UTF8.GetByteCount(start) + 100;
                await context.Response.WriteAsync(start);
                await context.Response.Body.FlushAsync();
                await ScriptedUpstream.StallAsync(context);
                break;
            default:
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync(start);
                await ScriptedUpstream.DripForeverAsync(context, TimeSpan.FromMilliseconds(50));
                break;
        }
    }
}
