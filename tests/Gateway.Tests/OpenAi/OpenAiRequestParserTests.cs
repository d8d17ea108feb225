using Gateway.Errors;
using Gateway.Generation;
using static Gateway.Tests.TestRequests;

namespace Gateway.Tests.OpenAi;

public sealed class OpenAiRequestParserTests
{
    private const string Hi = """[{"role":"user","content":"hi"}]""";

    [Fact]
    public void Chat_IsNormalized()
    {
        using var request = OpenAiRequest($$$"""
            {"model":"{{{Llama31}}}","messages":[{"role":"developer","content":"d"},{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
              {"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","content":"r","tool_call_id":"c"}],
             "stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":9,"max_tokens":99,"stop":["x"],
             "tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"auto","seed":-5}
            """);

        Assert.Equal(ClientApi.OpenAiChat, request.Api);
        Assert.Equal([new ChatMessage("developer", "d"), new ChatMessage("user", "a\nb"), new ChatMessage("assistant", ""), new ChatMessage("tool", "r")], request.Messages!);
        Assert.False(request.Raw);
        Assert.True(request.Stream);
        Assert.True(request.IncludeStreamUsage);
        Assert.Equal(9, request.MaxTokens);
        Assert.True(request.MaxTokensGiven);
        Assert.Equal(-5, request.Sampling.Seed);
        Assert.Equal("auto", request.ToolChoice!.Value.GetString());
        Assert.Equal(1, request.Stop!.Value.GetArrayLength());
        Assert.Equal(1, request.Tools!.Value.GetArrayLength());
    }

    [Fact]
    public void Completions_AreRawPrompts()
    {
        using var request = OpenAiRequest($$"""{"model":"{{Llama2}}","prompt":["Once upon"],"stream":true}""", ClientApi.OpenAiCompletions);

        Assert.Equal("Once upon", request.Prompt);
        Assert.True(request.Raw);
        Assert.Equal(2500, request.MaxTokens);
        Assert.False(request.MaxTokensGiven);
        Assert.False(request.IncludeStreamUsage);
    }

    [Theory]
    // OpenAI's own ranges, narrowed by the catalog (llama-3.1 allows penalties 0..2 and top_p 0..2).
    [InlineData(Llama2, "frequency_penalty", "-2", null)]
    [InlineData(Llama31, "frequency_penalty", "-1", "'frequency_penalty' must be between 0 and 2, got -1")]
    [InlineData(Llama31, "presence_penalty", "-0.5", "'presence_penalty' must be between 0 and 2, got -0.5")]
    [InlineData(Llama31, "presence_penalty", "2", null)]
    [InlineData(Llama2, "presence_penalty", "2.5", "'presence_penalty' must be between -2 and 2, got 2.5")]
    [InlineData(Llama31, "top_p", "1.5", "'top_p' must be between 0 and 1, got 1.5")]
    [InlineData(Llama31, "top_p", "0", null)]
    [InlineData(Llama2, "top_p", "0", "'top_p' must be between 0.001 and 1, got 0")]
    [InlineData(Llama2, "temperature", "2", null)]
    [InlineData(Llama2, "temperature", "2.5", "'temperature' must be between 0 and 2, got 2.5")]
    public void Ranges_AreOpenAisNarrowedByTheCatalog(string model, string field, string value, string? error)
    {
        var json = $$"""{"model":"{{model}}","messages":{{Hi}},"{{field}}":{{value}} }""";
        if (error is null)
        {
            OpenAiRequest(json).Dispose();
            return;
        }
        var ex = Assert.Throws<ApiException>(() => OpenAiRequest(json));

        Assert.Equal(error, ex.Error.Message);
        Assert.Equal(field, ex.Error.Param);
    }

    [Theory]
    [InlineData(""","stream":true,"stream_options":{"include_usage":1}""", "'stream_options.include_usage' must be a boolean, got a number", "stream_options.include_usage")]
    [InlineData(""","messages":[{"role":"user","content":[{"type":"text","text":[]}]}]""", "'messages[0].content[0].text' must be a string, got an array", "messages[0].content[0].text")]
    [InlineData(""","messages":[{"role":"user","content":[{"type":null,"text":"x"}]}]""", "'messages[0].content[0]' must be a text part ({\"type\":\"text\",\"text\":...}); other part types are not supported.", "messages[0].content[0]")]
    public void NestedFieldErrors_NameTheFullPath(string extra, string message, string param)
    {
        var json = extra.Contains("\"messages\"", StringComparison.Ordinal)
            ? $$"""{"model":"{{Llama2}}"{{extra}} }"""
            : $$"""{"model":"{{Llama2}}","messages":{{Hi}}{{extra}} }""";

        var error = Assert.Throws<ApiException>(() => OpenAiRequest(json)).Error;

        Assert.Equal(message, error.Message);
        Assert.Equal(param, error.Param);
    }
}
