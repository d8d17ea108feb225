using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;

namespace Gateway.FunctionalTests.PublishedExamples;

/// <summary>Every request example of the Workers AI pages the gateway follows, sent as written to the gateway in
/// front of a scripted Workers AI upstream: each must succeed and reach the upstream once.</summary>
public sealed class PublishedExampleTests : IAsyncLifetime
{
    private ScriptedUpstream _upstream = null!;
    private GatewayServer _gateway = null!;

    public static TheoryData<int> Examples => new(Enumerable.Range(0, PublishedExamples.All.Count));

    public async Task InitializeAsync()
    {
        _upstream = await ScriptedUpstream.StartAsync();
        _gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(_upstream, "WorkersAi"));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task PublishedExample_Succeeds_AsWritten(int index)
    {
        var example = PublishedExamples.All[index];
        using var request = new HttpRequestMessage(HttpMethod.Post, Path(example));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "client-token");
        request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(example.Body));
        request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType(example));

        using var response = await _gateway.Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{example} answered {(int)response.StatusCode}: {body}");
        var received = Assert.Single(_upstream.Received);
        var sent = JsonDocument.Parse(example.Body).RootElement;
        var stream = sent.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        if (stream)
        {
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
            Assert.EndsWith("data: [DONE]\n\n", body, StringComparison.Ordinal);
        }
        else if (example.Client == ExampleClient.WorkerBinding)
        {
            Assert.Equal("Scripted upstream says hello.", JsonDocument.Parse(body).RootElement.GetProperty("response").GetString());
        }
        else
        {
            Assert.True(JsonDocument.Parse(body).RootElement.GetProperty("success").GetBoolean());
        }
        if (sent.TryGetProperty("raw", out var raw) && raw.ValueKind == JsonValueKind.String)
        {
            // "raw": "true" (the LoRA page's curl example) reaches the upstream as a boolean; see the test below.
            Assert.Equal(JsonValueKind.True, received.Json.GetProperty("raw").ValueKind);
        }
        else
        {
            Assert.Equal(example.Body, received.Body);
        }
    }

    [Fact]
    public async Task LoraCurlExample_ReachesTheUpstream_WithRawAsABoolean()
    {
        var example = PublishedExamples.All.Single(e => e.Model == PublishedExamples.Lora && e.Client == ExampleClient.Curl);
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(example.Body));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/x-www-form-urlencoded");

        using var response = await _gateway.Client.PostAsync(Path(example), content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("""{"prompt":"tell me a story","raw":true,"lora":"00000000-0000-0000-0000-000000000"}""", Assert.Single(_upstream.Received).Body);
    }

    private static string Path(PublishedExample example) => example.Client == ExampleClient.WorkerBinding
        ? $"ai/run/{example.Model}"
        : $"client/v4/accounts/client-account/ai/run/{example.Model}";

    private static string ContentType(PublishedExample example) => example.ContentType ?? example.Client switch
    {
        ExampleClient.Curl => "application/x-www-form-urlencoded",
        ExampleClient.Fetch => "text/plain;charset=UTF-8",
        _ => "application/json",
    };
}
