using System.Text.Json;
using Gateway.Generation;
using Gateway.Sse;
using Gateway.Upstreams;
using static Gateway.Tests.TestRequests;

namespace Gateway.Tests.Upstreams;

public sealed class WorkersAiProtocolTests
{
    private readonly WorkersAiProtocol _protocol = new();

    [Theory]
    [InlineData(ClientApi.WorkersAiShort)]
    [InlineData(ClientApi.WorkersAiRest)]
    public void WorkersAiRequests_AreForwardedByteForByte_UnderTheGatewaysAccount(ClientApi api)
    {
        const string body = """{ "prompt" : "hi", "raw":true, "lora":null, "x-unknown": [1,2] }""";
        using var request = WorkersAiRequest(body, api: api);

        var call = _protocol.Prepare(request, Options());

        Assert.Equal($"/client/v4/accounts/gateway-account/ai/run/{Llama2}", call.PathAndQuery);
        Assert.Equal(body, Text(call.Body));
    }

    [Fact]
    public void Path_UsesTheUpstreamModelName_BasePath_AndAnEscapedAccount()
    {
        using var request = WorkersAiRequest("""{"prompt":"hi"}""", Renamed);

        var call = _protocol.Prepare(request, Options(o => { o.BasePath = "/proxy/client/v4/"; o.AccountId = "a b/c"; }));

        Assert.Equal("/proxy/client/v4/accounts/a%20b%2Fc/ai/run/served-name", call.PathAndQuery);
    }

    [Fact]
    public void MissingAccountId_IsAConfigurationError()
    {
        using var request = WorkersAiRequest("""{"prompt":"hi"}""");

        Assert.Throws<InvalidOperationException>(() => _protocol.Prepare(request, Options(o => o.AccountId = null)));
    }

    [Fact]
    public void OpenAiChat_BecomesMessages_WithRolesMapped_AndParametersKept()
    {
        using var request = OpenAiRequest($$$"""
            {"model":"{{{Llama31}}}","messages":[
              {"role":"developer","content":"be brief"},
              {"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},
              {"role":"assistant","content":"ok"},
              {"role":"function","content":"42"}],
             "stream":true,"max_tokens":64,"temperature":0.5,"top_p":0.9,"top_k":40,"seed":7,
             "repetition_penalty":1.1,"frequency_penalty":0.2,"presence_penalty":0.3,
             "tools":[{"type":"function","function":{"name":"f"}}],
             "response_format":{"type":"json_object"},"user":"dropped","n":1}
            """);

        var call = _protocol.Prepare(request, Options());

        Assert.Equal($"/client/v4/accounts/gateway-account/ai/run/{Llama31}", call.PathAndQuery);
        Assert.Equal(Compact("""
            {"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"a\nb"},
              {"role":"assistant","content":"ok"},{"role":"tool","content":"42"}],
             "stream":true,"max_tokens":64,"temperature":0.5,"top_p":0.9,"seed":7,"frequency_penalty":0.2,"presence_penalty":0.3,
             "top_k":40,"repetition_penalty":1.1,
             "tools":[{"type":"function","function":{"name":"f"}}],"response_format":{"type":"json_object"}}
            """), Compact(Text(call.Body)));
    }

    [Fact]
    public void OpenAiCompletions_BecomeARawPrompt_WithTheDefaultMaxTokens()
    {
        using var request = OpenAiRequest($$"""{"model":"{{Llama2}}","prompt":"Once upon"}""", ClientApi.OpenAiCompletions);

        var call = _protocol.Prepare(request, Options());

        Assert.Equal(Compact("""{"prompt":"Once upon","raw":true,"stream":false,"max_tokens":256}"""), Compact(Text(call.Body)));
    }

    [Fact]
    public void ReadResult_UnwrapsTheRestEnvelope()
    {
        var root = Json("""{"result":{"response":"Hello","usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}},"success":true,"errors":[],"messages":[]}""");

        var result = _protocol.ReadResult(root);

        Assert.Equal("Hello", result.Text);
        Assert.Equal(new Usage(3, 1, 4), result.Usage);
        Assert.Empty(result.ToolCalls);
        Assert.Equal("stop", result.FinishReason);
        Assert.Equal(JsonValueKind.Object, result.Native!.Value.ValueKind);
        Assert.Equal("Hello", result.Native.Value.GetProperty("response").GetString());
        Assert.False(result.Native.Value.TryGetProperty("success", out _));
    }

    [Fact]
    public void ReadResult_AcceptsABareResult_AndComputesAMissingTotal()
    {
        var result = _protocol.ReadResult(Json("""{"response":"Hi","usage":{"prompt_tokens":3,"completion_tokens":2}}"""));

        Assert.Equal("Hi", result.Text);
        Assert.Equal(new Usage(3, 2, 5), result.Usage);
    }

    [Fact]
    public void ReadResult_ReadsToolCalls_WithObjectOrStringArguments()
    {
        var result = _protocol.ReadResult(Json("""
            {"result":{"response":null,"tool_calls":[
              {"name":"get_weather","arguments":{"city":"Paris"}},
              {"name":"now","arguments":"{}"},
              {"name":"bare"}]}}
            """));

        Assert.Equal("", result.Text);
        Assert.Equal("tool_calls", result.FinishReason);
        Assert.Equal(
        [
            new ToolCall(null, "get_weather", """{"city":"Paris"}"""),
            new ToolCall(null, "now", "{}"),
            new ToolCall(null, "bare", "{}"),
        ], result.ToolCalls);
    }

    [Fact]
    public void ReadResult_ToolCallsWithoutResponse_AreAResult()
    {
        var result = _protocol.ReadResult(Json("""{"result":{"tool_calls":[{"name":"f","arguments":{}}]}}"""));

        Assert.Equal("", result.Text);
        Assert.Single(result.ToolCalls);
    }

    [Fact]
    public void ReadResult_JsonModeObject_IsItsJsonText()
    {
        var result = _protocol.ReadResult(Json("""{"result":{"response":{"answer":42,"tags":["a"]}}}"""));

        Assert.Equal("""{"answer":42,"tags":["a"]}""", result.Text);
    }

    [Theory]
    [InlineData("""[{"response":"hi"}]""")]
    [InlineData("\"hi\"")]
    [InlineData("""{"result":{"text":"hi"}}""")]
    [InlineData("""{"success":false,"errors":[{"code":5006,"message":"bad"}],"result":null}""")]
    public void ReadResult_Malformed_IsAProtocolError(string body)
    {
        Assert.Throws<UpstreamProtocolException>(() => _protocol.ReadResult(Json(body)));
    }

    [Fact]
    public void StreamReader_ReadsText_Usage_AndDone_KeepingTheNativeData()
    {
        var reader = _protocol.CreateStreamReader();

        var first = reader.Read(new SseEvent("""{"response":"Hel","p":"abc"}"""))!;
        var empty = reader.Read(new SseEvent("""{"p":"x"}"""))!;
        var usage = reader.Read(new SseEvent("""{"response":"","usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}"""))!;
        var done = reader.Read(new SseEvent("[DONE]"))!;

        Assert.Equal("Hel", first.Text);
        Assert.Equal("""{"response":"Hel","p":"abc"}""", first.NativeData);
        Assert.Null(first.Usage);
        Assert.False(first.Done);
        Assert.Equal("", empty.Text);
        Assert.Equal(new Usage(1, 2, 3), usage.Usage);
        Assert.True(done.Done);
        Assert.Equal("[DONE]", done.NativeData);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"response":"cut""")]
    [InlineData("[1]")]
    [InlineData("""{"errors":[{"code":3040,"message":"capacity"}]}""")]
    [InlineData("""{"error":"boom"}""")]
    public void StreamReader_Malformed_IsAProtocolError(string data)
    {
        Assert.Throws<UpstreamProtocolException>(() => _protocol.CreateStreamReader().Read(new SseEvent(data)));
    }

    [Theory]
    [InlineData("""{"success":false,"errors":[{"code":5006,"message":"bad input"}]}""", "bad input")]
    [InlineData("""{"errors":[]}""", null)]
    [InlineData("""{"error":{"message":"openai style"}}""", null)]
    [InlineData("[]", null)]
    public void ReadErrorMessage_TakesTheFirstError(string body, string? expected)
    {
        Assert.Equal(expected, _protocol.ReadErrorMessage(Json(body)));
    }

    [Fact]
    public void StreamReader_EndsOnlyAtDone()
    {
        var reader = _protocol.CreateStreamReader();
        reader.Read(new SseEvent("""{"response":"Hi"}"""));
        reader.Read(new SseEvent("""{"response":"","usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"""));
        Assert.False(reader.Ended);
        reader.Read(new SseEvent("[DONE]"));
        Assert.True(reader.Ended);
    }
}
