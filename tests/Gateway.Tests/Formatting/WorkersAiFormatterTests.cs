using Gateway.Formatting;
using Gateway.Generation;
using Gateway.Upstreams;
using static Gateway.Tests.TestRequests;

namespace Gateway.Tests.Formatting;

public sealed class WorkersAiFormatterTests
{
    private static readonly WorkersAiFormatter Formatter = WorkersAiFormatter.Instance;
    private static readonly Usage SomeUsage = new(1, 2, 3);

    private static string Format(ClientApi api, GenerationResult result, bool native = false)
    {
        using var request = WorkersAiRequest("""{"prompt":"hi"}""", api: api);
        return Text(Formatter.FormatResult(request, result, native));
    }

    [Fact]
    public void Short_IsTheBareResult()
    {
        Assert.Equal("""{"response":"Hello","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}""",
            Format(ClientApi.WorkersAiShort, new GenerationResult { Text = "Hello", Usage = SomeUsage }));
        Assert.Equal("""{"response":"Hello"}""", Format(ClientApi.WorkersAiShort, new GenerationResult { Text = "Hello" }));
    }

    [Fact]
    public void Rest_WrapsTheResultInTheEnvelope()
    {
        Assert.Equal("""{"result":{"response":"Hello"},"success":true,"errors":[],"messages":[]}""",
            Format(ClientApi.WorkersAiRest, new GenerationResult { Text = "Hello" }));
    }

    [Fact]
    public void ToolCalls_HaveObjectArguments_WhenTheyParse()
    {
        var result = new GenerationResult
        {
            Text = "",
            ToolCalls = [new ToolCall("call_1", "get_weather", """{"city":"Paris"}"""), new ToolCall(null, "broken", "{not json")],
            FinishReason = "tool_calls",
        };

        Assert.Equal("""{"response":"","tool_calls":[{"name":"get_weather","arguments":{"city":"Paris"}},{"name":"broken","arguments":"{not json"}]}""",
            Format(ClientApi.WorkersAiShort, result));
    }

    [Fact]
    public void Text_IsNotHtmlEscaped()
    {
        Assert.Equal("""{"response":"It's <b>café</b> & \"quoted\"\n"}""",
            Format(ClientApi.WorkersAiShort, new GenerationResult { Text = "It's <b>café</b> & \"quoted\"\n" }));
    }

    [Theory]
    [InlineData(ClientApi.WorkersAiShort, """{"response":"native","usage":{"prompt_tokens":9},"extra":[1]}""")]
    [InlineData(ClientApi.WorkersAiRest, """{"result":{"response":"native","usage":{"prompt_tokens":9},"extra":[1]},"success":true,"errors":[],"messages":[]}""")]
    public void Native_RelaysTheUpstreamResultUnchanged(ClientApi api, string expected)
    {
        var result = new GenerationResult { Text = "ignored", Usage = SomeUsage, Native = Json("""{"response":"native","usage":{"prompt_tokens":9},"extra":[1]}""") };

        Assert.Equal(expected, Format(api, result, native: true));
    }

    [Fact]
    public void Native_WithoutANativeResult_IsBuilt()
    {
        Assert.Equal("""{"response":"Hello"}""", Format(ClientApi.WorkersAiShort, new GenerationResult { Text = "Hello" }, native: true));
    }

    [Fact]
    public void Stream_SendsTextEvents_ThenUsageAndToolCalls_ThenDone()
    {
        using var request = WorkersAiRequest("""{"prompt":"hi","stream":true}""");
        var stream = Formatter.CreateStream(request, native: false);
        var output = new List<string>();

        stream.OnDelta(new StreamDelta { Text = "Hel" }, output);
        stream.OnDelta(new StreamDelta { Text = "" }, output);
        stream.OnDelta(new StreamDelta { Text = "lo", ToolCalls = [new ToolCall("c", "f", """{"a":1}""")] }, output);
        stream.OnDelta(new StreamDelta { FinishReason = "stop", Usage = SomeUsage }, output);
        stream.OnEnd(output);

        Assert.Equal(
        [
            """{"response":"Hel"}""",
            """{"response":"lo"}""",
            """{"response":"","tool_calls":[{"name":"f","arguments":{"a":1}}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}""",
            "[DONE]",
        ], output);
    }

    [Fact]
    public void Stream_WithoutUsageOrTools_EndsWithDoneOnly()
    {
        using var request = WorkersAiRequest("""{"prompt":"hi","stream":true}""");
        var stream = Formatter.CreateStream(request, native: false);
        var output = new List<string>();

        stream.OnDelta(new StreamDelta { Text = "x" }, output);
        stream.OnEnd(output);

        Assert.Equal(["""{"response":"x"}""", "[DONE]"], output);
    }

    [Fact]
    public void NativeStream_RelaysEveryEventAsIs_AndAddsDoneItself()
    {
        using var request = WorkersAiRequest("""{"prompt":"hi","stream":true}""");
        var stream = Formatter.CreateStream(request, native: true);
        var output = new List<string>();

        stream.OnDelta(new StreamDelta { Text = "a", NativeData = """{"response":"a","p":"abc"}""" }, output);
        stream.OnDelta(new StreamDelta { NativeData = """{"p":"keepalive"}""" }, output);
        stream.OnDelta(new StreamDelta { Usage = SomeUsage, NativeData = """{"response":"","usage":{"total_tokens":3}}""" }, output);
        stream.OnDelta(new StreamDelta { Done = true, NativeData = "[DONE]" }, output);
        stream.OnEnd(output);

        Assert.Equal(["""{"response":"a","p":"abc"}""", """{"p":"keepalive"}""", """{"response":"","usage":{"total_tokens":3}}""", "[DONE]"], output);
    }
}
