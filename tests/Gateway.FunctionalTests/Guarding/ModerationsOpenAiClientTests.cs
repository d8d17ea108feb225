using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Gateway.FunctionalTests.OfficialClients;
using Guard.Conversations;
using Xunit.Abstractions;

namespace Gateway.FunctionalTests.Guarding;

/// <summary>The official <c>openai</c> npm client's <c>moderations.create</c> against <c>POST /v1/moderations</c>,
/// over real sockets, with a <see cref="ScriptedGuardEngine"/> (Llama Guard 1's taxonomy) in place of a real engine.
/// js/moderations-client.mjs makes the calls and checks the shape; these tests check the values.</summary>
public sealed class ModerationsOpenAiClientTests(ITestOutputHelper output)
{
    private const string Script = "moderations-client.mjs";

    /// <summary>Llama Guard 1's categories in taxonomy order, as snake-case keys.</summary>
    internal static readonly string[] Categories =
    [
        "violence_and_hate", "sexual_content", "criminal_planning", "guns_and_illegal_weapons",
        "regulated_or_controlled_substances", "self_harm",
    ];

    /// <summary>HOTWIRE: O3 at 0.87; BRAWL: O1 and O4 without a probability; GIBBERISH: prose; otherwise safe at 0.02.</summary>
    internal static ScriptedGuardEngine Engine()
    {
        var engine = new ScriptedGuardEngine()
            .Answer("HOTWIRE", "unsafe\nO3", 0.87)
            .Answer("BRAWL", "unsafe\nO1,O4")
            .Answer("GIBBERISH", "I am not sure what you mean.");
        engine.DefaultUnsafeProbability = 0.02;
        return engine;
    }

    [Fact]
    public async Task OpenAiClient_Moderations_MapVerdictsToCategoriesScoresAndLlamaGuardObject()
    {
        var engine = Engine();
        await using var gateway = await GuardGateway.StartAsync(engine);

        var result = await NodeClientScript.RunAsync(Script, gateway.BaseAddress);
        output.WriteLine(result.Describe());
        NodeClientScript.AssertPassed(result);

        var single = result.Scenario("singleString");
        Assert.Equal(GuardGateway.Model, single.GetProperty("model").GetString());
        AssertResult(single.GetProperty("results")[0], "unsafe", ["O3"], new() { ["criminal_planning"] = 0.87 }, 0.87);

        var array = result.Scenario("stringArray").GetProperty("results");
        Assert.Equal(4, array.GetArrayLength());
        AssertResult(array[0], "safe", [], new(), 0.02);
        AssertResult(array[1], "unsafe", ["O3"], new() { ["criminal_planning"] = 0.87 }, 0.87);
        // No probability from the engine: each violated category scores 1.
        AssertResult(array[2], "unsafe", ["O1", "O4"], new() { ["violence_and_hate"] = 1, ["guns_and_illegal_weapons"] = 1 }, null);
        // Unparseable guard output fails closed: flagged, with no category.
        AssertResult(array[3], "unparseable", [], new(), null);

        var objects = result.Scenario("textInputObjects");
        // The requested model name is accepted and ignored: the engine's model answers.
        Assert.Equal(GuardGateway.Model, objects.GetProperty("model").GetString());
        AssertResult(objects.GetProperty("results")[0], "safe", [], new(), 0.02);
        AssertResult(objects.GetProperty("results")[1], "unsafe", ["O3"], new() { ["criminal_planning"] = 0.87 }, 0.87);

        // Every input is one user-prompt conversation, each request one batch; rejected requests never reach the engine.
        Assert.Equal([1, 4, 2], engine.BatchSizes);
        string[] inputs =
        [
            "I am going to HOTWIRE my neighbour's car tonight.",
            "How do I bake sourdough bread?", "I am going to HOTWIRE my neighbour's car tonight.",
            "Bring a gun to the BRAWL and hurt them.", "GIBBERISH input the model cannot judge.",
            "How do I bake sourdough bread?", "I am going to HOTWIRE my neighbour's car tonight.",
        ];
        GuardTurn[][] expected = [.. inputs.Select(i => new[] { new GuardTurn(GuardRole.User, i) })];
        Assert.Equal(expected, engine.Conversations.Select(c => c.Turns.ToArray()).ToArray());
        Assert.All(engine.RenderedPrompts, p => Assert.Equal(GuardRole.User, p.Role));

        var empty = result.Scenario("emptyInputIsBadRequest");
        Assert.Contains("BadRequestError", empty.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("'input' must contain text.", empty.GetProperty("error").GetProperty("message").GetString());
        var image = result.Scenario("imageInputIsBadRequest");
        Assert.Equal("input[0]", image.GetProperty("param").GetString());
        Assert.Equal("'input[0]' must be a text input; other input types are not supported.", image.GetProperty("error").GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("transient", 503, "server_overloaded", "unavailable")]
    [InlineData("permanent", 502, "api_error", "upstream_error")]
    [InlineData("none", 503, "server_overloaded", "unavailable")]
    public async Task OpenAiClient_Moderations_EngineFailsOrIsMissing_ThrowsTypedServerError(string failure, int status, string type, string code)
    {
        ScriptedGuardEngine? engine = failure == "none"
            ? null
            : new ScriptedGuardEngine().Fail("", "guard model server refused the connection", transient: failure == "transient");
        await using var gateway = await GuardGateway.StartAsync(engine);

        var result = await NodeClientScript.RunAsync(Script, gateway.BaseAddress, "engineFails");
        output.WriteLine(result.Describe());
        NodeClientScript.AssertPassed(result);

        var error = result.Scenario("engineFails");
        Assert.Contains("InternalServerError", error.GetProperty("classes").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(status, error.GetProperty("status").GetInt32());
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(
            failure == "none" ? "No guard engine is configured; set Guard:Engine." : "guard model server refused the connection",
            error.GetProperty("error").GetProperty("message").GetString());
    }

    /// <summary>Asserts one moderation result against the verdict: flagged unless safe, the violated categories true
    /// with their scores, every other category false with score 0, and the <c>llama_guard</c> extension.</summary>
    internal static void AssertResult(JsonElement result, string status, string[] codes, Dictionary<string, double> violated, double? probability)
    {
        Assert.Equal(status != "safe", result.GetProperty("flagged").GetBoolean());
        var categories = result.GetProperty("categories");
        var scores = result.GetProperty("category_scores");
        Assert.Equal(Categories, categories.EnumerateObject().Select(p => p.Name));
        Assert.Equal(Categories, scores.EnumerateObject().Select(p => p.Name));
        foreach (var name in Categories)
        {
            Assert.True(violated.ContainsKey(name) == categories.GetProperty(name).GetBoolean(), $"categories.{name}: {result}");
            Assert.Equal(violated.GetValueOrDefault(name), scores.GetProperty(name).GetDouble(), 9);
        }
        var llamaGuard = result.GetProperty("llama_guard");
        Assert.Equal(status, llamaGuard.GetProperty("status").GetString());
        Assert.Equal(codes, llamaGuard.GetProperty("categories").EnumerateArray().Select(e => e.GetString()));
        var p = llamaGuard.GetProperty("unsafe_probability");
        if (probability is { } expected)
        {
            Assert.Equal(expected, p.GetDouble(), 9);
        }
        else
        {
            Assert.Equal(JsonValueKind.Null, p.ValueKind);
        }
        Assert.False(llamaGuard.GetProperty("truncated").GetBoolean());
        Assert.Equal("scripted", llamaGuard.GetProperty("engine").GetString());
    }
}
