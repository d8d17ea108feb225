using System.Net;
using System.Text.Json;
using Gateway.Errors;
using Gateway.Generation;
using Gateway.Sse;
using Gateway.Upstreams;
using static Gateway.Tests.TestRequests;

namespace Gateway.Tests.Upstreams;

public sealed class OpenAiProtocolTests
{
    private readonly OpenAiProtocol _protocol = new();

    private JsonElement Translated(GenerationRequest request, Action<UpstreamOptions>? configure = null) =>
        Json(_protocol.Prepare(request, Options(configure)).Body);

    [Theory]
    [InlineData(ClientApi.OpenAiChat, """{"model":"@cf/meta/llama-2-7b-chat-fp16", "messages":[{"role":"user","content":"hi"}], "logit_bias":{"1":2}}""", "/v1/chat/completions")]
    [InlineData(ClientApi.OpenAiCompletions, """{"model":"@cf/meta/llama-2-7b-chat-fp16","prompt":"hi","suffix":"x"}""", "/v1/completions")]
    public void OpenAiRequests_AreForwardedUntouched(ClientApi api, string body, string path)
    {
        using var request = OpenAiRequest(body, api);

        var call = _protocol.Prepare(request, Options());

        Assert.Equal(path, call.PathAndQuery);
        Assert.Equal(body, Text(call.Body));
    }

    [Fact]
    public void OpenAiRequests_ForARenamedModel_OnlyChangeTheModel()
    {
        using var request = OpenAiRequest($$"""{"messages":[{"role":"user","content":"hi"}],"model":"{{Renamed}}","temperature":0.5,"user":"u"}""");

        var call = _protocol.Prepare(request, Options(o => o.BasePath = "/api/"));

        Assert.Equal("/api/v1/chat/completions", call.PathAndQuery);
        Assert.Equal("""{"messages":[{"role":"user","content":"hi"}],"model":"served-name","temperature":0.5,"user":"u"}""", Text(call.Body));
    }

    [Fact]
    public void WorkersAiPrompt_BecomesAUserMessage_WithTheDefaultMaxTokens()
    {
        using var request = WorkersAiRequest("""{"prompt":"hello"}""", Renamed);

        var call = _protocol.Prepare(request, Options());

        Assert.Equal("/v1/chat/completions", call.PathAndQuery);
        Assert.Equal(Compact("""{"model":"served-name","messages":[{"role":"user","content":"hello"}],"max_tokens":256,"stream":false}"""), Compact(Text(call.Body)));
    }

    [Fact]
    public void WorkersAiMessages_AreKept_AndStreamsAskForUsage()
    {
        using var request = WorkersAiRequest("""{"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"},{"role":"assistant","content":"a"},{"role":"tool","content":"t"}],"stream":true}""");

        var body = Translated(request);

        Assert.Equal(Compact("""
            {"model":"@cf/meta/llama-2-7b-chat-fp16",
             "messages":[{"role":"system","content":"s"},{"role":"user","content":"u"},{"role":"assistant","content":"a"},{"role":"tool","content":"t"}],
             "max_tokens":2500,"stream":true,"stream_options":{"include_usage":true}}
            """), JsonSerializer.Serialize(body));
    }

    [Fact]
    public void WorkersAiRawPrompt_GoesToCompletions_Untouched()
    {
        const string prompt = "<s>[INST] tell me a story [/INST]";
        using var request = WorkersAiRequest(JsonSerializer.Serialize(new { prompt, raw = true, max_tokens = 12 }));

        var call = _protocol.Prepare(request, Options());

        Assert.Equal("/v1/completions", call.PathAndQuery);
        var body = Json(call.Body);
        Assert.Equal(prompt, body.GetProperty("prompt").GetString());
        Assert.Equal(12, body.GetProperty("max_tokens").GetInt32());
        Assert.False(body.TryGetProperty("messages", out _));
        Assert.False(body.TryGetProperty("raw", out _));
    }

    [Fact]
    public void RawWithMessages_StillGoesToChat()
    {
        using var request = WorkersAiRequest("""{"messages":[{"role":"user","content":"hi"}],"raw":true}""");

        Assert.Equal("/v1/chat/completions", _protocol.Prepare(request, Options()).PathAndQuery);
    }

    [Theory]
    [InlineData("{lora}", "my-adapter")]
    [InlineData("{model}:{lora}", "@cf/meta-llama/llama-2-7b-chat-hf-lora:my-adapter")]
    [InlineData("adapters/{lora}@{model}", "adapters/my-adapter@@cf/meta-llama/llama-2-7b-chat-hf-lora")]
    public void Lora_BecomesTheModelName_ThroughLoraModelFormat(string format, string model)
    {
        using var request = WorkersAiRequest("""{"prompt":"hi","lora":"my-adapter"}""", LoraModel);

        Assert.Equal(model, Translated(request, o => o.LoraModelFormat = format).GetProperty("model").GetString());
    }

    [Fact]
    public void FlatTools_AreWrapped_AndWrappedToolsKept()
    {
        using var request = WorkersAiRequest("""
            {"messages":[{"role":"user","content":"weather?"}],"tools":[
              {"name":"get_weather","description":"d","parameters":{"type":"object","properties":{"city":{"type":"string"}}}},
              {"type":"function","function":{"name":"now","parameters":{"type":"object"}}}]}
            """, Llama31);

        var tools = Translated(request).GetProperty("tools");

        Assert.Equal(Compact("""
            [{"type":"function","function":{"name":"get_weather","description":"d","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},
             {"type":"function","function":{"name":"now","parameters":{"type":"object"}}}]
            """), JsonSerializer.Serialize(tools));
    }

    [Theory]
    // Workers AI puts the schema itself under json_schema; OpenAI wants {name, schema}.
    [InlineData("""{"type":"json_schema","json_schema":{"type":"object","properties":{"a":{"type":"number"}}}}""",
        """{"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object","properties":{"a":{"type":"number"}}}}}""")]
    [InlineData("""{"type":"json_schema","json_schema":{"name":"mine","schema":{"type":"object"},"strict":true}}""",
        """{"type":"json_schema","json_schema":{"name":"mine","schema":{"type":"object"},"strict":true}}""")]
    [InlineData("""{"type":"json_object"}""", """{"type":"json_object"}""")]
    public void ResponseFormat_JsonSchemaIsWrapped(string given, string sent)
    {
        using var request = WorkersAiRequest($$"""{"prompt":"hi","response_format": {{given}} }""");

        Assert.Equal(Compact(sent), JsonSerializer.Serialize(Translated(request).GetProperty("response_format")));
    }

    [Theory]
    [InlineData(true, """{"temperature":0.7,"top_p":0.5,"seed":3,"frequency_penalty":0.1,"presence_penalty":-0.1,"top_k":5,"repetition_penalty":1.2}""")]
    [InlineData(false, """{"temperature":0.7,"top_p":0.5,"seed":3,"frequency_penalty":0.1,"presence_penalty":-0.1}""")]
    public void Sampling_OnlyWhatWasGiven_ExtendedOnlyWhenEnabled(bool extended, string expected)
    {
        using var request = WorkersAiRequest("""{"prompt":"hi","temperature":0.7,"top_p":0.5,"top_k":5,"seed":3,"repetition_penalty":1.2,"frequency_penalty":0.1,"presence_penalty":-0.1}""");

        var body = Translated(request, o => o.ExtendedSampling = extended);
        var sampling = body.EnumerateObject().Where(p => p.Name is not ("model" or "messages" or "max_tokens" or "stream"));

        Assert.Equal(Compact(expected), JsonSerializer.Serialize(sampling.ToDictionary(p => p.Name, p => p.Value)));
        using var bare = WorkersAiRequest("""{"prompt":"hi"}""");
        Assert.Equal(["model", "messages", "max_tokens", "stream"], Translated(bare).EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public void EmbeddedFunctions_CannotBeTranslated()
    {
        using var request = WorkersAiRequest("""{"messages":[{"role":"user","content":"hi"}],"functions":[{"name":"f","code":"return 1"}]}""", Llama31);

        var error = Assert.Throws<ApiException>(() => _protocol.Prepare(request, Options())).Error;

        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal(ApiErrorKind.InvalidRequest, error.Kind);
        Assert.Equal("functions", error.Param);
        Assert.Contains("use 'tools'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadResult_Chat()
    {
        var root = Json("""
            {"id":"x","object":"chat.completion","created":1,"model":"m",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"length"}],
             "usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}
            """);

        var result = _protocol.ReadResult(root);

        Assert.Equal("Hello", result.Text);
        Assert.Equal("length", result.FinishReason);
        Assert.Equal(new Usage(5, 1, 6), result.Usage);
        Assert.Empty(result.ToolCalls);
        Assert.Equal("chat.completion", result.Native!.Value.GetProperty("object").GetString());
    }

    [Fact]
    public void ReadResult_TextCompletion_WithoutUsage()
    {
        var result = _protocol.ReadResult(Json("""{"object":"text_completion","choices":[{"index":0,"text":" there","finish_reason":"stop"}]}"""));

        Assert.Equal(" there", result.Text);
        Assert.Null(result.Usage);
        Assert.Equal("stop", result.FinishReason);
    }

    [Fact]
    public void ReadResult_ToolCalls()
    {
        var result = _protocol.ReadResult(Json("""
            {"choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant","content":null,"tool_calls":[
              {"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
              {"id":"call_2","type":"function","function":{"name":"now"}}]}}]}
            """));

        Assert.Equal("", result.Text);
        Assert.Equal("tool_calls", result.FinishReason);
        Assert.Equal([new ToolCall("call_1", "get_weather", """{"city":"Paris"}"""), new ToolCall("call_2", "now", "{}")], result.ToolCalls);
    }

    [Fact]
    public void ReadResult_JsonModeObjectContent_IsItsJsonText()
    {
        var result = _protocol.ReadResult(Json("""{"choices":[{"message":{"role":"assistant","content":{"a":1}}}]}"""));

        Assert.Equal("""{"a":1}""", result.Text);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("{}")]
    [InlineData("""{"choices":[]}""")]
    [InlineData("""{"choices":{}}""")]
    [InlineData("""{"choices":[{"index":0,"finish_reason":"stop"}]}""")]
    [InlineData("""{"error":{"message":"boom"}}""")]
    public void ReadResult_Malformed_IsAProtocolError(string body)
    {
        Assert.Throws<UpstreamProtocolException>(() => _protocol.ReadResult(Json(body)));
    }

    [Fact]
    public void StreamReader_ReadsChatDeltas_FinishAndUsage()
    {
        var reader = _protocol.CreateStreamReader();
        static SseEvent Chunk(string choice) => new($$"""{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{{choice}}]}""");

        var role = reader.Read(Chunk("""{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}"""))!;
        var text = reader.Read(Chunk("""{"index":0,"delta":{"content":"Hel"},"finish_reason":null}"""))!;
        var finish = reader.Read(Chunk("""{"index":0,"delta":{},"finish_reason":"stop"}"""))!;
        var usage = reader.Read(new SseEvent("""{"id":"x","choices":[],"usage":{"prompt_tokens":2,"completion_tokens":3,"total_tokens":5}}"""))!;
        var done = reader.Read(new SseEvent("[DONE]"))!;

        Assert.Equal("", role.Text);
        Assert.Equal("Hel", text.Text);
        Assert.Null(text.FinishReason);
        Assert.Contains("\"Hel\"", text.NativeData, StringComparison.Ordinal);
        Assert.Equal("stop", finish.FinishReason);
        Assert.Equal(new Usage(2, 3, 5), usage.Usage);
        Assert.Equal("", usage.Text);
        Assert.True(done.Done);
    }

    [Fact]
    public void StreamReader_ReadsTextCompletionChunks()
    {
        var delta = _protocol.CreateStreamReader().Read(new SseEvent("""{"object":"text_completion","choices":[{"index":0,"text":"Once","finish_reason":null}]}"""))!;

        Assert.Equal("Once", delta.Text);
    }

    [Fact]
    public void StreamReader_MergesToolCallFragments_UntilTheFinish()
    {
        var reader = _protocol.CreateStreamReader();
        static SseEvent Delta(string toolCalls, string finish = "null") =>
            new($$"""{"choices":[{"index":0,"delta":{"tool_calls": {{toolCalls}} },"finish_reason": {{finish}} }]}""");

        var deltas = new[]
        {
            reader.Read(Delta("""[{"index":0,"id":"call_1","type":"function","function":{"name":"get_","arguments":""}}]"""))!,
            reader.Read(Delta("""[{"index":0,"function":{"name":"weather","arguments":"{\"ci"}}]"""))!,
            reader.Read(Delta("""[{"index":1,"id":"call_2","type":"function","function":{"name":"now","arguments":"{}"}},{"index":0,"function":{"arguments":"ty\":\"Paris\"}"}}]"""))!,
        };
        var finish = reader.Read(new SseEvent("""{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"""))!;

        Assert.All(deltas, d => Assert.Empty(d.ToolCalls));
        Assert.Equal("tool_calls", finish.FinishReason);
        Assert.Equal([new ToolCall("call_1", "get_weather", """{"city":"Paris"}"""), new ToolCall("call_2", "now", "{}")], finish.ToolCalls);

        // The calls were handed over once; a later finish carries none.
        Assert.Empty(reader.Read(new SseEvent("""{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"""))!.ToolCalls);
    }

    [Fact]
    public void StreamReader_ToolCallsInTheFinishingChunk_AreIncluded()
    {
        var finish = _protocol.CreateStreamReader().Read(new SseEvent(
            """{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"tool_calls"}]}"""))!;

        Assert.Equal([new ToolCall("c", "f", "{}")], finish.ToolCalls);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"error":{"message":"overloaded"}}""")]
    public void StreamReader_Malformed_IsAProtocolError(string data)
    {
        Assert.Throws<UpstreamProtocolException>(() => _protocol.CreateStreamReader().Read(new SseEvent(data)));
    }

    [Theory]
    [InlineData("""{"error":{"message":"bad model","type":"invalid_request_error"}}""", "bad model")]
    [InlineData("""{"error":"plain"}""", "plain")]
    [InlineData("""{"object":"error","message":"vllm says no"}""", "vllm says no")]
    [InlineData("""{"detail":"fastapi"}""", "fastapi")]
    [InlineData("""{"detail":[{"loc":["body"],"msg":"x"}]}""", """[{"loc":["body"],"msg":"x"}]""")]
    [InlineData("""{"other":1}""", null)]
    [InlineData("[]", null)]
    public void ReadErrorMessage_KnowsTheCommonShapes(string body, string? expected)
    {
        Assert.Equal(expected, _protocol.ReadErrorMessage(Json(body)));
    }

    [Fact]
    public void StreamReader_EndsAtAFinishReasonOrDone_NotBefore()
    {
        var byFinish = _protocol.CreateStreamReader();
        byFinish.Read(new SseEvent("""{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}"""));
        Assert.False(byFinish.Ended);
        byFinish.Read(new SseEvent("""{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"""));
        Assert.True(byFinish.Ended);

        var byDone = _protocol.CreateStreamReader();
        byDone.Read(new SseEvent("""{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"""));
        Assert.False(byDone.Ended);
        byDone.Read(new SseEvent("[DONE]"));
        Assert.True(byDone.Ended);
    }
}
