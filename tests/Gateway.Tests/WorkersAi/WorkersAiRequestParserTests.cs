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

    [Fact]
    public void Lora_OnAModelWithoutLora_Is405()
    {
        var error = Assert.Throws<ApiException>(() => WorkersAiRequest("""{"prompt":"hi","lora":"a"}""")).Error;

        Assert.Equal(HttpStatusCode.MethodNotAllowed, error.Status);
        Assert.Equal(ApiErrorKind.LoraUnsupported, error.Kind);
        Assert.Equal("lora", error.Param);
    }
}
