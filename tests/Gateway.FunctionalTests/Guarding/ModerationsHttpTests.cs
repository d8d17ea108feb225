using System.Net;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Guard.Conversations;

namespace Gateway.FunctionalTests.Guarding;

/// <summary><c>POST /v1/moderations</c> over plain HTTP: invalid input in the OpenAI error envelope, unparseable guard
/// output, engine failures and a missing engine.</summary>
public sealed class ModerationsHttpTests
{
    private const string Path = "v1/moderations";

    public static TheoryData<string, string?, string> BadInputs()
    {
        static string Items(int n, string item) => "[" + string.Join(",", Enumerable.Repeat(item, n)) + "]";
        return new TheoryData<string, string?, string>
        {
            { "{}", "input", "Missing required parameter: 'input'." },
            { """{"input":null}""", "input", "Missing required parameter: 'input'." },
            { """{"model":"omni-moderation-latest"}""", "input", "Missing required parameter: 'input'." },
            { """{"input":5}""", "input", "'input' must be a string or an array, got a number" },
            { """{"input":true}""", "input", "'input' must be a string or an array, got a boolean" },
            { """{"input":{"type":"text","text":"hi"}}""", "input", "'input' must be a string or an array, got an object" },
            { """{"input":""}""", "input", "'input' must contain text." },
            { """{"input":" \n\t "}""", "input", "'input' must contain text." },
            // Python's str.strip() (the chat template's) also removes U+001C..U+001F: still nothing to judge.
            { """{"input":"\u001c\u001f"}""", "input", "'input' must contain text." },
            { """{"input":[]}""", "input", "'input' must not be empty." },
            { """{"input":["ok",""]}""", "input[1]", "'input[1]' must contain text." },
            { """{"input":["ok",5]}""", "input[1]", "'input[1]' must be a string or a text input object, got a number" },
            { """{"input":[["nested"]]}""", "input[0]", "'input[0]' must be a string or a text input object, got an array" },
            { """{"input":[null]}""", "input[0]", "'input[0]' must be a string or a text input object, got null" },
            { "{\"input\":" + Items(33, "\"ok\"") + "}", "input", "'input' has 33 items; at most 32 are accepted per request." },
            { """{"input":[{"type":"image_url","image_url":{"url":"https://example.invalid/a.png"}}]}""", "input[0]", "'input[0]' must be a text input; other input types are not supported." },
            { """{"input":[{"type":"text","text":"ok"},{"image_url":{"url":"https://example.invalid/a.png"}}]}""", "input[1]", "'input[1]' must be a text input; other input types are not supported." },
            { """{"input":[{"type":"text"}]}""", "input[0].text", "'input[0].text' is required." },
            { """{"input":[{"type":"text","text":5}]}""", "input[0].text", "'input[0].text' must be a string, got a number" },
            { """{"input":[{"type":7,"text":"ok"}]}""", "input[0].type", "'input[0].type' must be a string, got a number" },
            { """{"input":[{"type":"text","text":"  "}]}""", "input[0]", "'input[0]' must contain text." },
            { """{"input":"ok","model":5}""", "model", "'model' must be a string, got a number" },
            { """{"input":"ok","model":["omni"]}""", "model", "'model' must be a string, got an array" },
            { "[\"ok\"]", null, "Request body must be a JSON object, got an array." },
        };
    }

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task BadInput_Is400InTheOpenAiEnvelope_AndNothingIsClassified(string body, string? param, string message)
    {
        var engine = ModerationsOpenAiClientTests.Engine();
        await using var gateway = await GuardGateway.StartAsync(engine);

        var response = await GuardGateway.PostAsync(gateway, Path, body);

        var error = GuardGateway.AssertOpenAiError(response, HttpStatusCode.BadRequest, "invalid_request_error");
        if (message.Length > 0)
        {
            Assert.Equal(message, error.GetProperty("message").GetString());
        }
        if (param is null)
        {
            Assert.NotEqual(JsonValueKind.String, error.GetProperty("param").ValueKind);
        }
        else
        {
            Assert.Equal(param, error.GetProperty("param").GetString());
        }
        Assert.Empty(engine.BatchSizes);
    }

    [Fact]
    public async Task MalformedJson_Is400InvalidJson()
    {
        var engine = ModerationsOpenAiClientTests.Engine();
        await using var gateway = await GuardGateway.StartAsync(engine);

        var response = await GuardGateway.PostAsync(gateway, Path, """{"input": "unterminated""");

        var error = GuardGateway.AssertOpenAiError(response, HttpStatusCode.BadRequest, "invalid_request_error");
        Assert.Equal("invalid_json", error.GetProperty("code").GetString());
        Assert.Empty(engine.BatchSizes);
    }

    [Fact]
    public async Task ThirtyTwoInputs_AreOneBatch_AndAnswerInOrder()
    {
        var engine = ModerationsOpenAiClientTests.Engine();
        await using var gateway = await GuardGateway.StartAsync(engine);
        var inputs = Enumerable.Range(0, 32).Select(i => i % 3 == 0 ? $"item {i} HOTWIRE" : $"item {i}").ToArray();

        var response = await GuardGateway.PostAsync(gateway, Path, JsonSerializer.Serialize(new { input = inputs }));

        Assert.Equal(HttpStatusCode.OK, response.Status);
        var results = response.Json.GetProperty("results");
        Assert.Equal(32, results.GetArrayLength());
        for (var i = 0; i < 32; i++)
        {
            Assert.Equal(i % 3 == 0, results[i].GetProperty("flagged").GetBoolean());
        }
        Assert.Equal([32], engine.BatchSizes);
        Assert.Equal(inputs, engine.Conversations.Select(c => c.Turns.Single().Content));
    }

    [Fact]
    public async Task UnparseableGuardOutput_IsFlagged_WithStatusUnparseable()
    {
        var engine = new ScriptedGuardEngine().Answer("", "Sure! Here is my assessment: it is fine.", 0.4);
        await using var gateway = await GuardGateway.StartAsync(engine);

        var response = await GuardGateway.PostAsync(gateway, Path, """{"input":"  Is this fine?  "}""");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        Assert.Equal("application/json", response.ContentType);
        var json = response.Json;
        Assert.StartsWith("modr-", json.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal(GuardGateway.Model, json.GetProperty("model").GetString());
        var result = Assert.Single(json.GetProperty("results").EnumerateArray());
        ModerationsOpenAiClientTests.AssertResult(result, "unparseable", [], new(), 0.4);
        Assert.Equal(new GuardTurn(GuardRole.User, "Is this fine?"), Assert.Single(engine.Conversations).Turns.Single());
    }

    [Fact]
    public async Task UnknownCategoryCodes_AreFlaggedWithoutCategories()
    {
        // The model names a code the taxonomy does not have (an S-code from a later Llama Guard): still unsafe.
        var engine = new ScriptedGuardEngine().Answer("", "unsafe\nS1", 0.9);
        await using var gateway = await GuardGateway.StartAsync(engine);

        var response = await GuardGateway.PostAsync(gateway, Path, """{"input":"anything"}""");

        Assert.Equal(HttpStatusCode.OK, response.Status);
        ModerationsOpenAiClientTests.AssertResult(response.Json.GetProperty("results")[0], "unsafe", [], new(), 0.9);
    }

    [Theory]
    [InlineData(true, HttpStatusCode.ServiceUnavailable, "server_overloaded", "unavailable")]
    [InlineData(false, HttpStatusCode.BadGateway, "api_error", "upstream_error")]
    public async Task EngineFailure_Is503WhenTransientElse502(bool transient, HttpStatusCode status, string type, string code)
    {
        var engine = new ScriptedGuardEngine().Fail("boom", "the guard model returned no choices", transient);
        await using var gateway = await GuardGateway.StartAsync(engine);

        var response = await GuardGateway.PostAsync(gateway, Path, """{"input":["fine","boom"]}""");

        var error = GuardGateway.AssertOpenAiError(response, status, type);
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal("the guard model returned no choices", error.GetProperty("message").GetString());
        Assert.Equal([2], engine.BatchSizes);
    }

    [Theory]
    [InlineData("""{"input":"hello"}""")]
    [InlineData("""{"input":[]}""")]
    public async Task NoEngineConfigured_Is503NamingGuardEngine(string body)
    {
        await using var gateway = await GuardGateway.StartAsync(engine: null);

        var response = await GuardGateway.PostAsync(gateway, Path, body);

        var error = GuardGateway.AssertOpenAiError(response, HttpStatusCode.ServiceUnavailable, "server_overloaded");
        Assert.Equal("unavailable", error.GetProperty("code").GetString());
        Assert.Equal("No guard engine is configured; set Guard:Engine.", error.GetProperty("message").GetString());
    }
}
