using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.FunctionalTests.BadInput;
using Gateway.FunctionalTests.Infrastructure;
using Microsoft.AspNetCore.Http;

namespace Gateway.FunctionalTests.Faults;

/// <summary>An upstream answer over the gateway's size limits is reported as too large, naming the limit's key,
/// not as malformed.</summary>
public sealed class UpstreamTooLargeTests
{
    private static readonly string Long = new('x', 4096);

    public static TheoryData<string, Surface, bool> UnaryRows
    {
        get
        {
            var data = new TheoryData<string, Surface, bool>();
            foreach (var (kind, surface) in FaultClient.EachSurface.Select(row => ((string)row[0], (Surface)row[1])))
            {
                data.Add(kind, surface, true);
                data.Add(kind, surface, false);
            }
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(UnaryRows))]
    public async Task UnaryBodyOverTheLimit_Answers502SayingTooLarge(string kind, Surface surface, bool declaredLength)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = async (context, _) =>
        {
            var body = Encoding.UTF8.GetBytes(kind == "WorkersAi"
                ? JsonSerializer.Serialize(new { result = new { response = Long }, success = true, errors = Array.Empty<object>(), messages = Array.Empty<object>() })
                : JsonSerializer.Serialize(new { id = "up-1", @object = "chat.completion", created = 1, model = "m", choices = new[] { new { index = 0, message = new { role = "assistant", content = Long }, finish_reason = "stop" } } }));
            context.Response.ContentType = "application/json";
            if (declaredLength)
            {
                context.Response.ContentLength = body.Length;
            }
            await context.Response.Body.WriteAsync(body);
        };
        var config = GatewayServer.RouteAllTo(upstream, kind);
        config["Gateway:MaxUpstreamResponseBytes"] = "1024";
        await using var gateway = await GatewayServer.StartAsync(config);

        using var response = await gateway.Client.SendAsync(FaultClient.Request(surface, stream: false));

        var message = await FaultClient.AssertErrorResponseAsync(response, surface, HttpStatusCode.BadGateway, 9001, "upstream_error");
        Assert.Equal("Upstream 'backend' sent a response larger than 1024 bytes, the limit set by Gateway:MaxUpstreamResponseBytes.", message);
    }

    [Theory]
    [MemberData(nameof(FaultClient.EachSurface), MemberType = typeof(FaultClient))]
    public async Task StreamEventOverTheLimit_CutsTheStreamSayingTooLarge(string kind, Surface surface)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        upstream.Handler = async (context, _) =>
        {
            context.Response.ContentType = "text/event-stream";
            await ScriptedUpstream.WriteEventAsync(context, StreamEndTests.Delta(kind, "fine"));
            await ScriptedUpstream.WriteEventAsync(context, StreamEndTests.Delta(kind, Long));
            await ScriptedUpstream.WriteEventAsync(context, "[DONE]");
        };
        var config = GatewayServer.RouteAllTo(upstream, kind);
        config["Gateway:MaxStreamEventBytes"] = "1024";
        await using var gateway = await GatewayServer.StartAsync(config);

        using var response = await gateway.Client.SendAsync(FaultClient.Request(surface, stream: true));
        var events = ProxyRoundTripTests.ParseSse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain("[DONE]", events);
        var (code, message) = FaultClient.ReadError(surface, JsonDocument.Parse(events[^1]).RootElement);
        Assert.Equal(FaultClient.IsWorkersAi(surface) ? "9001" : "upstream_error", code);
        Assert.Contains("sent a stream event larger than 1024 bytes, the limit set by Gateway:MaxStreamEventBytes", message, StringComparison.Ordinal);
    }
}
