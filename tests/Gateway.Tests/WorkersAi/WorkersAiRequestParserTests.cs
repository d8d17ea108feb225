using System.Net;
using Gateway.Errors;
using Gateway.Generation;
using static Gateway.Tests.TestRequests;

namespace Gateway.Tests.WorkersAi;

public sealed class WorkersAiRequestParserTests
{
    [Theory]
    [InlineData("""{"prompt":"hi"}""", false, 256, false)]
    [InlineData("""{"prompt":"hi","stream":true}""", true, 2500, false)]
    [InlineData("""{"prompt":"hi","stream":false,"max_tokens":7}""", false, 7, true)]
    [InlineData("""{"prompt":"hi","stream":true,"max_tokens":7.0}""", true, 7, true)]
    public void MaxTokens_DefaultPerStreamMode(string json, bool stream, int maxTokens, bool given)
    {
        using var request = WorkersAiRequest(json);

        Assert.Equal(stream, request.Stream);
        Assert.Equal(maxTokens, request.MaxTokens);
        Assert.Equal(given, request.MaxTokensGiven);
    }

    [Fact]
    public void Prompt_IsNormalized_WithEveryParameter()
    {
        using var request = WorkersAiRequest("""
            {"prompt":"hi","raw":true,"lora":"adapter","temperature":0.5,"top_p":0.25,"top_k":3,"seed":9999999999,
             "repetition_penalty":1.5,"frequency_penalty":-2,"presence_penalty":2,"response_format":{"type":"json_object"}}
            """, LoraModel, ClientApi.WorkersAiRest);

        Assert.Equal(ClientApi.WorkersAiRest, request.Api);
        Assert.Equal("hi", request.Prompt);
        Assert.Null(request.Messages);
        Assert.True(request.Raw);
        Assert.Equal("adapter", request.Lora);
        Assert.Equal("client-account", request.AccountId);
        Assert.Equal(new SamplingParameters
        {
            Temperature = 0.5,
            TopP = 0.25,
            TopK = 3,
            Seed = 9_999_999_999,
            RepetitionPenalty = 1.5,
            FrequencyPenalty = -2,
            PresencePenalty = 2,
        }, request.Sampling);
        Assert.Equal("json_object", request.ResponseFormat!.Value.GetProperty("type").GetString());
    }

    [Fact]
    public void Messages_AreRead_InOrder()
    {
        using var request = WorkersAiRequest("""{"messages":[{"role":"system","content":"s"},{"role":"user","content":""},{"role":"tool","content":"t"}]}""");

        Assert.Null(request.Prompt);
        Assert.Equal([new ChatMessage("system", "s"), new ChatMessage("user", ""), new ChatMessage("tool", "t")], request.Messages!);
    }

    [Theory]
    [InlineData("""{"prompt":"hi","response_format":{"type":7}}""", "'response_format.type' must be a string, got a number", "response_format.type")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"tools":[{"name":7}]}""", "'tools[0].name' must be a string, got a number", "tools[0].name")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":false}}]}""", "'tools[0].function.name' must be a string, got a boolean", "tools[0].function.name")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"functions":[{"name":"f","code":{}}]}""", "'functions[0].code' must be a string, got an object", "functions[0].code")]
    [InlineData("""{"messages":[{"role":"user","content":"x"}],"functions":[{"name":1,"code":"c"}]}""", "'functions[0].name' must be a string, got a number", "functions[0].name")]
    public void NestedFieldErrors_NameTheFullPath(string json, string message, string param)
    {
        var error = Assert.Throws<ApiException>(() => WorkersAiRequest(json, Llama31)).Error;

        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal(message, error.Message);
        Assert.Equal(param, error.Param);
    }

    [Theory]
    [InlineData("""{"prompt":"hi","raw":"true"}""", true, false, """{"prompt":"hi","raw":true}""")]
    [InlineData("""{"prompt":"hi","raw":"false","stream":"true","max_tokens":5}""", false, true, """{"prompt":"hi","raw":false,"stream":true,"max_tokens":5}""")]
    [InlineData("""{"stream":"false","messages":[{"role":"user","content":"\"true\""}]}""", false, false, """{"stream":false,"messages":[{"role":"user","content":"\"true\""}]}""")]
    public void StringBooleans_AreAccepted_AndForwardedAsBooleans(string json, bool raw, bool stream, string forwarded)
    {
        using var request = WorkersAiRequest(json);

        Assert.Equal(raw, request.Raw);
        Assert.Equal(stream, request.Stream);
        Assert.Equal(forwarded, Text(request.Body));
    }

    [Fact]
    public void RealBooleans_AreForwarded_ByteForByte()
    {
        const string json = """{ "prompt": "hi", "raw": true, "stream": false }""";
        using var request = WorkersAiRequest(json);

        Assert.Equal(json, Text(request.Body));
    }

    [Theory]
    [InlineData("""{"prompt":"hi","raw":"TRUE"}""", "raw", "got the string \"TRUE\"")]
    [InlineData("""{"prompt":"hi","raw":" true"}""", "raw", "got the string \" true\"")]
    [InlineData("""{"prompt":"hi","stream":"1"}""", "stream", "got the string \"1\"")]
    [InlineData("""{"prompt":"hi","stream":0}""", "stream", "got a number")]
    [InlineData("""{"prompt":"hi","stream":{}}""", "stream", "got an object")]
    public void OtherBooleanValues_Are400_NamingFieldAndValue(string json, string field, string got)
    {
        var error = Assert.Throws<ApiException>(() => WorkersAiRequest(json)).Error;

        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal(field, error.Param);
        Assert.Equal($"'{field}' must be true or false (the strings \"true\" and \"false\" are accepted too), {got}", error.Message);
    }

    [Fact]
    public void Lora_OnAModelWithoutLora_Is405()
    {
        var error = Assert.Throws<ApiException>(() => WorkersAiRequest("""{"prompt":"hi","lora":"a"}""")).Error;

        Assert.Equal(HttpStatusCode.MethodNotAllowed, error.Status);
        Assert.Equal(ApiErrorKind.LoraUnsupported, error.Kind);
        Assert.Equal("lora", error.Param);
    }
}
