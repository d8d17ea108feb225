using System.Net;
using System.Text.Json;
using Gateway.Errors;
using Gateway.Generation;
using Gateway.Tokens;
using Gateway.Upstreams;
using Guard.Tokenizers;
using static Gateway.Tests.TestRequests;

namespace Gateway.Tests.Tokens;

public sealed class ContextWindowCheckTests
{
    private static readonly string Huge = new('a', 100_000);

    private static ContextWindowCheck Check(PromptTokenizers? tokenizers = null, string upstreamKind = "WorkersAi")
    {
        var kind = Enum.Parse<UpstreamKind>(upstreamKind);
        var registry = UpstreamRegistry.Build(
            new Dictionary<string, UpstreamOptions> { ["backend"] = new() { Kind = kind, AccountId = "acc" } },
            [new RouteRuleOptions { Models = "*", Upstream = "backend" }], TestRequests.Catalog, _ => true);
        return new ContextWindowCheck(new PromptTokenCounter(tokenizers ?? TokenizerSetup.Both()), registry);
    }

    private static ApiError Refused(ContextWindowCheck check, GenerationRequest request)
    {
        using (request)
        {
            return Assert.Throws<ApiException>(() => check.Check(request)).Error;
        }
    }

    private static void Accepted(ContextWindowCheck check, GenerationRequest request)
    {
        using (request)
        {
            check.Check(request);
        }
    }

    /// <summary>Tokens of a raw Llama 2 prompt: BOS and the text.</summary>
    private static int RawTokens(string text) => 1 + BootstrapTokenizers.Llama2.CountTokens(text);

    /// <summary>Tokens of one Llama 2 user turn, from Meta's format written out here.</summary>
    private static int UserTurnTokens(string text) =>
        BootstrapTokenizers.Llama2.Encode([TokenSegment.ControlToken("<s>"), TokenSegment.PlainText("[INST] " + text + " [/INST]")]).Length;

    private static string Words(int n) => string.Join(' ', Enumerable.Range(0, n).Select(i => i % 2 == 0 ? "alpha" : "beta"));

    /// <summary>Words whose raw prompt (with BOS) has at least <paramref name="tokens"/> tokens in a family.</summary>
    private static string WordsOfAtLeast(int tokens, ITokenizer tokenizer)
    {
        var n = tokens / 2;
        while (1 + tokenizer.CountTokens(Words(n)) < tokens)
        {
            n += 10;
        }
        return Words(n);
    }

    [Fact]
    public void FarOverTheWindow_IsRefused_WithWorkersAisError()
    {
        var error = Refused(Check(), WorkersAiRequest($$"""{"prompt":"{{Huge}}"}""", Int8));
        var prompt = UserTurnTokens(Huge);

        Assert.Equal(ApiErrorKind.ContextWindowExceeded, error.Kind);
        Assert.Equal("prompt", error.Param);
        Assert.Equal($"The estimated number of input and maximum output tokens ({prompt + 256}) exceeded this model context window limit (2048): "
            + $"{prompt} in 'prompt' (counted with the model's tokenizer) and 256 for max_tokens (the model's default). Shorten 'prompt' or lower max_tokens.",
            error.Message);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, ErrorCatalog.Status(error, workersAi: true));
        var json = JsonDocument.Parse(ErrorWriter.Serialize(error, workersAi: true)).RootElement;
        Assert.False(json.GetProperty("success").GetBoolean());
        Assert.Equal(5021, json.GetProperty("errors")[0].GetProperty("code").GetInt32());
        Assert.EndsWith("(at 'prompt')", json.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ClientApi.OpenAiChat, "messages")]
    [InlineData(ClientApi.OpenAiCompletions, "prompt")]
    public void FarOverTheWindow_IsRefused_WithOpenAisError(ClientApi api, string field)
    {
        var body = api == ClientApi.OpenAiChat
            ? $$"""{"model":"{{Int8}}","messages":[{"role":"user","content":"{{Huge}}"}],"max_tokens":100}"""
            : $$"""{"model":"{{Int8}}","prompt":"{{Huge}}","max_tokens":100}""";
        var error = Refused(Check(), OpenAiRequest(body, api));
        var prompt = api == ClientApi.OpenAiChat ? UserTurnTokens(Huge) : RawTokens(Huge);

        Assert.Equal(field, error.Param);
        Assert.Equal($"This model's maximum context length is 2048 tokens. However, you requested {prompt + 100} tokens "
            + $"({prompt} in the {field}, 100 in the completion). Please reduce the length of the {field} or completion.", error.Message);
        Assert.Equal(HttpStatusCode.BadRequest, ErrorCatalog.Status(error, workersAi: false));
        var json = JsonDocument.Parse(ErrorWriter.Serialize(error, workersAi: false)).RootElement.GetProperty("error");
        Assert.Equal("invalid_request_error", json.GetProperty("type").GetString());
        Assert.Equal("context_length_exceeded", json.GetProperty("code").GetString());
        Assert.Equal(field, json.GetProperty("param").GetString());
    }

    [Fact]
    public void ExactlyTheWindow_IsAccepted_OneTokenMoreIsNot()
    {
        var text = WordsOfAtLeast(1200, BootstrapTokenizers.Llama2);
        var maxTokens = 2048 - RawTokens(text);
        var check = Check();

        Accepted(check, WorkersAiRequest($$"""{"prompt":"{{text}}","raw":true,"max_tokens":{{maxTokens}}}""", Int8));
        var error = Refused(check, WorkersAiRequest($$"""{"prompt":"{{text}}","raw":true,"max_tokens":{{maxTokens + 1}}}""", Int8));
        Assert.StartsWith("The estimated number of input and maximum output tokens (2049) exceeded this model context window limit (2048)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultMaxTokens_Count_AndTheStreamDefaultToo()
    {
        var text = WordsOfAtLeast(1900, BootstrapTokenizers.Llama2);
        Assert.InRange(RawTokens(text), 2048 - 255, 2047);
        var check = Check();

        var error = Refused(check, WorkersAiRequest($$"""{"prompt":"{{text}}","raw":true}""", Int8));
        Assert.Contains("and 256 for max_tokens (the model's default)", error.Message, StringComparison.Ordinal);
        Accepted(check, WorkersAiRequest($$"""{"prompt":"{{text}}","raw":true,"max_tokens":{{2048 - RawTokens(text)}}}""", Int8));

        var shortText = WordsOfAtLeast(300, BootstrapTokenizers.Llama2);
        Accepted(check, WorkersAiRequest($$"""{"prompt":"{{shortText}}","raw":true}""", Int8));
        error = Refused(check, WorkersAiRequest($$"""{"prompt":"{{shortText}}","raw":true,"stream":true}""", Int8));
        Assert.Contains("and 1800 for max_tokens (the model's default)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Llama3_IsCountedWithTheLlama3Tokenizer()
    {
        var text = WordsOfAtLeast(7000, BootstrapTokenizers.Llama3);
        var prompt = 1 + BootstrapTokenizers.Llama3.CountTokens(text);
        var check = Check();

        Accepted(check, WorkersAiRequest($$"""{"prompt":"{{text}}","raw":true,"max_tokens":{{8192 - prompt}}}""", Llama3Window));
        var error = Refused(check, WorkersAiRequest($$"""{"prompt":"{{text}}","raw":true,"max_tokens":{{8193 - prompt}}}""", Llama3Window));
        Assert.Contains($"{prompt} in 'prompt' (counted with the model's tokenizer)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutATokenizer_TheEstimateRefusesFarOverPrompts()
    {
        var check = Check(TokenizerSetup.With(null));

        var error = Refused(check, WorkersAiRequest($$"""{"prompt":"{{Huge}}"}""", Int8));
        Assert.Contains("in 'prompt' (estimated from its bytes)", error.Message, StringComparison.Ordinal);
        error = Refused(check, OpenAiRequest($$"""{"model":"{{NoFamily}}","messages":[{"role":"user","content":"{{Huge}}"}]}"""));
        Assert.Contains($"({Huge.Length / TokenBounds.EstimateBytesPerToken} in the messages (estimated), 256 in the completion)", error.Message, StringComparison.Ordinal);
        // Text a Llama tokenizer counts over the window but the estimate does not: forwarded, for the upstream to judge.
        var text = WordsOfAtLeast(2100, BootstrapTokenizers.Llama2);
        Accepted(check, WorkersAiRequest($$"""{"prompt":"{{text}}","raw":true,"max_tokens":1}""", NoFamily));
    }

    [Fact]
    public void ShortPrompts_AreNeverTokenized()
    {
        var logger = new ListLogger<PromptTokenizers>();
        var check = Check(TokenizerSetup.With(logger, ("llama2", BootstrapTokenizers.Directory("llama2"))));

        Accepted(check, WorkersAiRequest("""{"prompt":"hi","max_tokens":1800}""", Int8));
        Accepted(check, OpenAiRequest($$"""{"model":"{{Int8}}","messages":[{"role":"user","content":"{{Words(200)}}"}]}"""));

        Assert.Empty(logger.Entries);
    }

    [Fact]
    public void GuardUpstream_AndModelsWithoutAWindow_AreLeftAlone()
    {
        Accepted(Check(upstreamKind: "Guard"), WorkersAiRequest($$"""{"prompt":"{{Huge}}"}""", Int8));
        Accepted(Check(), WorkersAiRequest($$"""{"prompt":"{{Huge}}"}""", Llama31));
    }
}
