using System.Net.Http.Headers;
using Gateway.FunctionalTests.Infrastructure;

namespace Gateway.FunctionalTests.BadInput;

/// <summary>One scripted OpenAI upstream and two gateways routing every model to it: one with the default body limit
/// and one limited to <see cref="BadInputCase.SmallBodyLimit"/> bytes.</summary>
public sealed class BadInputFixture : IAsyncLifetime
{
    /// <summary>Every response must arrive within this; a row that takes longer counts as a hang.</summary>
    public static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(10);

    public ScriptedUpstream Upstream { get; private set; } = null!;

    public GatewayServer Gateway { get; private set; } = null!;

    public GatewayServer Limited { get; private set; } = null!;

    /// <summary>A client with the 10 s timeout (the servers' own clients allow 30 s).</summary>
    public HttpClient Client { get; } = new() { Timeout = ClientTimeout };

    public async Task InitializeAsync()
    {
        Upstream = await ScriptedUpstream.StartAsync();
        Gateway = await GatewayServer.StartAsync(GatewayServer.RouteAllTo(Upstream, "OpenAi"));
        var limited = GatewayServer.RouteAllTo(Upstream, "OpenAi");
        limited["Gateway:MaxRequestBodyBytes"] = BadInputCase.SmallBodyLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Limited = await GatewayServer.StartAsync(limited);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Limited.DisposeAsync();
        await Gateway.DisposeAsync();
        await Upstream.DisposeAsync();
    }

    /// <summary>Sends a row's request exactly as described (method, raw content type, chunked or not).</summary>
    public async Task<(HttpResponseMessage Response, string Body)> SendAsync(BadInputCase row)
    {
        var server = row.Limited ? Limited : Gateway;
        using var request = new HttpRequestMessage(new HttpMethod(row.Method), new Uri(server.BaseAddress, row.Path));
        if (row.Body is not null)
        {
            request.Content = new ByteArrayContent(row.Body);
            if (row.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", row.ContentType);
            }
            if (row.Chunked)
            {
                request.Headers.TransferEncodingChunked = true;
            }
        }
        var response = await Client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return (response, body);
    }

    /// <summary>Sends a valid request and returns the status (used after the table to prove the gateway still serves).</summary>
    public async Task<HttpResponseMessage> PostJsonAsync(string path, string json)
    {
        var content = new StringContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return await Client.PostAsync(new Uri(Gateway.BaseAddress, path), content);
    }
}
