using System.Net;
using System.Text.Json;

namespace Gateway.FunctionalTests.BadInput;

/// <summary>The bad-input table over real sockets: every malformed, mistyped, out-of-range or misrouted request gets
/// its exact 4xx in the surface's own envelope, names what is wrong, answers within 10 s and never reaches the
/// upstream. The last test replays the whole table at once and checks the gateway still serves.</summary>
[TestCaseOrderer(RunLastOrderer.TypeName, RunLastOrderer.AssemblyName)]
public sealed partial class BadInputTests(BadInputFixture fixture) : IClassFixture<BadInputFixture>
{
    private static readonly Dictionary<string, BadInputCase> ShortTable = Index(BadInputCases.WorkersAi(Surface.WorkersAiShort));
    private static readonly Dictionary<string, BadInputCase> RestTable = Index(BadInputCases.WorkersAi(Surface.WorkersAiRest));
    private static readonly Dictionary<string, BadInputCase> ChatTable = Index(BadInputCases.OpenAiChat());
    private static readonly Dictionary<string, BadInputCase> CompletionsTable = Index(BadInputCases.OpenAiCompletions());
    private static readonly Dictionary<string, BadInputCase> RoutingTable = Index(BadInputCases.Routing());
    private static readonly Dictionary<string, BadInputCase> AcceptedTable = Index(BadInputCases.Accepted());

    public static TheoryData<string> WorkersAiShortRows => Names(ShortTable);

    public static TheoryData<string> WorkersAiRestRows => Names(RestTable);

    public static TheoryData<string> OpenAiChatRows => Names(ChatTable);

    public static TheoryData<string> OpenAiCompletionsRows => Names(CompletionsTable);

    public static TheoryData<string> RoutingRows => Names(RoutingTable);

    public static TheoryData<string> AcceptedRows => Names(AcceptedTable);

    [Theory]
    [MemberData(nameof(WorkersAiShortRows))]
    public Task WorkersAiShort_RejectsBadInput(string row) => AssertRejectedAsync(ShortTable[row]);

    [Theory]
    [MemberData(nameof(WorkersAiRestRows))]
    public Task WorkersAiRest_RejectsBadInput(string row) => AssertRejectedAsync(RestTable[row]);

    [Theory]
    [MemberData(nameof(OpenAiChatRows))]
    public Task OpenAiChat_RejectsBadInput(string row) => AssertRejectedAsync(ChatTable[row]);

    [Theory]
    [MemberData(nameof(OpenAiCompletionsRows))]
    public Task OpenAiCompletions_RejectsBadInput(string row) => AssertRejectedAsync(CompletionsTable[row]);

    [Theory]
    [MemberData(nameof(RoutingRows))]
    public Task UnknownRoutesAndWrongMethods_GetThePathsEnvelope(string row) => AssertRejectedAsync(RoutingTable[row]);

    [Theory]
    [MemberData(nameof(AcceptedRows))]
    public async Task EdgesOfValidInput_AreAccepted(string row)
    {
        var before = fixture.Upstream.Received.Count;
        var (response, body) = await fixture.SendAsync(AcceptedTable[row]);
        using (response)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{AcceptedTable[row]} answered {(int)response.StatusCode}: {body}");
        }
        Assert.Equal(before + 1, fixture.Upstream.Received.Count);
    }

    [Fact]
    [RunLast]
    public async Task AfterTheTable_TheGatewayIsHealthy_AndServesValidRequests()
    {
        // The whole table again, all at once: a burst of bad input must not wedge or crash anything.
        var rows = new[] { ShortTable, RestTable, ChatTable, CompletionsTable, RoutingTable }.SelectMany(t => t.Values).ToList();
        var before = fixture.Upstream.Received.Count;
        var served = 0; // raw rows whose framing Kestrel accepts (Content-Length with chunked) reach the upstream
        var raw = Parallel.ForEachAsync(RawTable.Values, new ParallelOptions { MaxDegreeOfParallelism = RawTable.Count }, async (row, _) =>
        {
            if (await AssertRawAsync(row) == 200)
            {
                Interlocked.Increment(ref served);
            }
        });
        await Parallel.ForEachAsync(rows, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (row, _) =>
        {
            var (response, body) = await fixture.SendAsync(row);
            using (response)
            {
                AssertEnvelope(row, response, body);
            }
        });
        await raw;
        Assert.Equal(before + served, fixture.Upstream.Received.Count);

        foreach (var server in new[] { fixture.Gateway, fixture.Limited })
        {
            using var health = await fixture.Client.GetAsync(new Uri(server.BaseAddress, "healthz"));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("Healthy", await health.Content.ReadAsStringAsync());
        }
        const string model = BadInputCase.Llama2;
        using (var response = await fixture.PostJsonAsync($"ai/run/{model}", """{"prompt":"hello"}"""))
        {
            var json = await ReadJsonAsync(response);
            Assert.Equal("Scripted upstream says hello.", json.GetProperty("response").GetString());
        }
        using (var response = await fixture.PostJsonAsync($"client/v4/accounts/acc/ai/run/{model}", """{"messages":[{"role":"user","content":"hello"}]}"""))
        {
            var json = await ReadJsonAsync(response);
            Assert.True(json.GetProperty("success").GetBoolean());
            Assert.Equal("Scripted upstream says hello.", json.GetProperty("result").GetProperty("response").GetString());
        }
        using (var response = await fixture.PostJsonAsync("v1/chat/completions", $$"""{"model":"{{model}}","messages":[{"role":"user","content":"hello"}]}"""))
        {
            var json = await ReadJsonAsync(response);
            Assert.Equal("Scripted upstream says hello.", json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        }
        using (var response = await fixture.PostJsonAsync("v1/completions", $$"""{"model":"{{model}}","prompt":"hello"}"""))
        {
            var json = await ReadJsonAsync(response);
            Assert.Equal("Scripted upstream says hello.", json.GetProperty("choices")[0].GetProperty("text").GetString());
        }
        using (var response = await fixture.PostJsonAsync($"ai/run/{model}", """{"prompt":"hello","stream":true}"""))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var events = ProxyRoundTripTests.ParseSse(await response.Content.ReadAsStringAsync());
            Assert.Equal("[DONE]", events[^1]);
        }
        Assert.Equal(before + served + 5, fixture.Upstream.Received.Count);
    }

    private async Task AssertRejectedAsync(BadInputCase row)
    {
        var before = fixture.Upstream.Received.Count;
        var (response, body) = await fixture.SendAsync(row);
        using (response)
        {
            AssertEnvelope(row, response, body);
        }
        Assert.Equal(before, fixture.Upstream.Received.Count);
    }

    /// <summary>Exactly the surface's envelope, with the row's status, code, offending field and message.</summary>
    internal static void AssertEnvelope(BadInputCase row, HttpResponseMessage response, string body)
    {
        Assert.True((int)response.StatusCode == row.ExpectedStatus, $"{row}: expected {row.ExpectedStatus}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        if (row.Allow is not null)
        {
            Assert.Equal(row.Allow, string.Join(", ", response.Content.Headers.Allow));
        }
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        string message;
        if (row.WorkersAiEnvelope)
        {
            AssertProperties(root, "success", "errors", "messages", "result");
            Assert.Equal(JsonValueKind.False, root.GetProperty("success").ValueKind);
            Assert.Equal(JsonValueKind.Null, root.GetProperty("result").ValueKind);
            Assert.Equal(0, root.GetProperty("messages").GetArrayLength());
            var errors = root.GetProperty("errors");
            Assert.Equal(1, errors.GetArrayLength());
            AssertProperties(errors[0], "code", "message");
            Assert.True(row.WorkersAiCode == errors[0].GetProperty("code").GetInt32(), $"{row}: expected code {row.WorkersAiCode}: {body}");
            message = errors[0].GetProperty("message").GetString()!;
            if (row.Param is not null)
            {
                Assert.EndsWith($"(at '{row.Param}')", message, StringComparison.Ordinal);
            }
        }
        else
        {
            AssertProperties(root, "error");
            var error = root.GetProperty("error");
            AssertProperties(error, "message", "type", "param", "code");
            Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
            Assert.True(row.OpenAiCode == error.GetProperty("code").GetString(), $"{row}: expected code {row.OpenAiCode ?? "null"}: {body}");
            Assert.True(row.Param == error.GetProperty("param").GetString(), $"{row}: expected param {row.Param ?? "null"}: {body}");
            message = error.GetProperty("message").GetString()!;
        }
        Assert.True(message.Contains(row.MessageContains, StringComparison.Ordinal), $"{row}: expected the message to contain \"{row.MessageContains}\": {body}");
    }

    private static void AssertProperties(JsonElement element, params string[] names)
    {
        Assert.Equal(JsonValueKind.Object, element.ValueKind);
        Assert.Equal(names.Order(StringComparer.Ordinal), element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        return JsonDocument.Parse(body).RootElement;
    }

    private static Dictionary<string, BadInputCase> Index(IEnumerable<BadInputCase> rows) => rows.ToDictionary(r => r.Name, StringComparer.Ordinal);

    private static TheoryData<string> Names<T>(Dictionary<string, T> table) => new(table.Keys);
}
