using System.Text;
using System.Text.Json;
using Gateway.FunctionalTests.BadInput;
using Gateway.FunctionalTests.Infrastructure;

namespace Gateway.FunctionalTests.Faults;

/// <summary>An upload that stays above Kestrel's minimum data rate but never finishes is answered with 408 once
/// <c>Gateway:RequestBodyTimeout</c> passes.</summary>
public sealed class RequestBodyDeadlineTests
{
    [Theory]
    [InlineData(Surface.WorkersAiShort, "WorkersAi")]
    [InlineData(Surface.WorkersAiRest, "OpenAi")]
    [InlineData(Surface.OpenAiChat, "OpenAi")]
    [InlineData(Surface.OpenAiCompletions, "WorkersAi")]
    public async Task DrippedUploadAboveTheMinimumRate_Gets408AtTheTotalDeadline(Surface surface, string kind)
    {
        await using var upstream = await ScriptedUpstream.StartAsync();
        var config = GatewayServer.RouteAllTo(upstream, kind);
        config["Gateway:RequestBodyTimeout"] = "00:00:01";
        await using var gateway = await GatewayServer.StartAsync(config);
        // 1 MB at 600 bytes/s (Kestrel's minimum is 240 bytes/s): it would take half an hour.
        var body = Encoding.UTF8.GetBytes(FaultClient.Body(surface, stream: false)[..^1] + ",\"pad\":\"" + new string('a', 1_000_000) + "\"}");
        var head = $"POST /{FaultClient.Path(surface)} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n";

        var (status, text) = await RawHttpExchange.DripUploadAsync(gateway.BaseAddress, head, body, 60, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(15));

        Assert.Equal(408, status);
        var (code, message) = FaultClient.ReadError(surface, JsonDocument.Parse(text).RootElement);
        Assert.Equal(FaultClient.IsWorkersAi(surface) ? "5006" : null, code);
        Assert.Equal("The request body did not arrive in time: the whole body must arrive within 1 s (Gateway:RequestBodyTimeout).", message);
        Assert.Empty(upstream.Received);
    }
}
