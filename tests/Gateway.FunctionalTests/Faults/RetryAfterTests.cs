using System.Net;
using Gateway.FunctionalTests.BadInput;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.FunctionalTests.Faults;

/// <summary>An upstream 429 or 503 keeps its <c>Retry-After</c> on the client's error response, in both forms.</summary>
public sealed class RetryAfterTests
{
    private const string HttpDate = "Wed, 21 Oct 2026 07:28:00 GMT";

    public static TheoryData<string, Surface, int> Rows
    {
        get
        {
            var data = new TheoryData<string, Surface, int>();
            foreach (var (kind, surface) in FaultClient.AllPairs.Select(row => ((string)row[0], (Surface)row[1])))
            {
                data.Add(kind, surface, 429);
                data.Add(kind, surface, 503);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public async Task RetryAfter_InDeltaSecondsOrHttpDate_ReachesTheClient(string kind, Surface surface, int status)
    {
        // 429 sends delta-seconds on a unary request, 503 an HTTP-date on a streamed one.
        var retryAfter = status == 429 ? "7" : HttpDate;
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = async (context, _) =>
        {
            context.Response.Headers.RetryAfter = retryAfter;
            await WriteErrorAsync(context, kind, status, "Capacity temporarily exceeded");
        };
        await using var gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(upstream, kind));

        using var response = await gateway.Client.SendAsync(FaultClient.Request(surface, stream: status == 503));

        await FaultClient.AssertErrorResponseAsync(response, surface, (HttpStatusCode)status, 9004, "unavailable");
        Assert.Equal(retryAfter, Assert.Single(response.Headers.GetValues("Retry-After")));
        if (status == 429)
        {
            Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter?.Delta);
        }
        else
        {
            Assert.Equal(DateTimeOffset.Parse(HttpDate, System.Globalization.CultureInfo.InvariantCulture), response.Headers.RetryAfter?.Date);
        }
    }

    [Theory]
    [MemberData(nameof(FaultClient.EachSurface), MemberType = typeof(FaultClient))]
    public async Task ErrorBodyThatStalls_StillAnswersTheStatusWithRetryAfter(string kind, Surface surface)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = async (context, _) =>
        {
            context.Response.Headers.RetryAfter = "3";
            await ScriptedUpstream.StallAfterHeadersAsync(context, 429, "application/json");
        };
        var config = GatewayServer.RouteAllTo(upstream, kind);
        config["Gateway:Upstreams:backend:ResponseBodyTimeout"] = "00:00:01";
        await using var gateway = await GatewayServer.StartAsync(config);
        using var client = FaultClient.ClientFor(gateway.BaseAddress);

        using var response = await client.SendAsync(FaultClient.Request(surface, stream: false));

        await FaultClient.AssertErrorResponseAsync(response, surface, HttpStatusCode.TooManyRequests, 9004, "unavailable");
        Assert.Equal("3", Assert.Single(response.Headers.GetValues("Retry-After")));
    }

    /// <summary>An error body in the upstream's own protocol.</summary>
    internal static Task WriteErrorAsync(HttpContext context, string kind, int status, string message) =>
        ScriptedUpstream.WriteJsonAsync(context, status, kind == "WorkersAi"
            ? new { success = false, errors = new[] { new { code = 3040, message } }, messages = Array.Empty<object>(), result = (object?)null }
            : new { error = new { message, type = "upstream_error", param = (string?)null, code = (string?)null } });
}
