using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Guard.Tokenizers;

namespace Gateway.FunctionalTests.ContextWindow;

/// <summary>The context window over real sockets: prompts that cannot fit are refused before anything reaches the
/// upstream, in each surface's error shape; the boundary is computed here with the real Llama 2 tokenizer.</summary>
public sealed class ContextWindowTests
{
    private const string Int8 = "@cf/meta/llama-2-7b-chat-int8";
    private const int Window = 2048;
    private const string Sentence = "The quick brown fox jumps over the lazy dog while the gateway counts every token. ";

    /// <summary>100,000 characters of prose.</summary>
    private static readonly string Huge = string.Concat(Enumerable.Repeat(Sentence, 100_000 / Sentence.Length + 1))[..100_000];

    private static async Task<(ScriptedUpstream Upstream, GatewayServer Gateway)> StartAsync(string kind = "WorkersAi", bool tokenizers = true)
    {
        var upstream = await ScriptedUpstream.StartAsync();
        var configuration = GatewayServer.RouteAllTo(upstream, kind);
        var gateway = await GatewayServer.StartAsync(tokenizers ? BootstrapTokenizers.Configured(configuration) : configuration);
        return (upstream, gateway);
    }

    private static async Task<(HttpStatusCode Status, JsonElement Json)> PostAsync(GatewayServer gateway, string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await gateway.Client.PostAsync(path, content);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Whole sentences whose raw Llama 2 prompt (BOS included) has at least <paramref name="tokens"/> tokens.</summary>
    private static string TextOfAtLeast(int tokens)
    {
        var text = new StringBuilder();
        while (RawTokens(text.ToString()) < tokens)
        {
            text.Append(Sentence);
        }
        return text.ToString().TrimEnd();
    }

    private static int RawTokens(string text) => 1 + BootstrapTokenizers.Llama2.CountTokens(text);

    /// <summary>A system and a user message in Meta's Llama 2 chat format, written out independently of the gateway.</summary>
    private static int ChatTokens(string system, string user) => BootstrapTokenizers.Llama2.Encode(
    [
        TokenSegment.ControlToken("<s>"),
        TokenSegment.PlainText($"[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST]"),
    ]).Length;

    private static void AssertWorkersAiRefusal(HttpStatusCode status, JsonElement json, string field)
    {
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.False(json.GetProperty("success").GetBoolean());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("result").ValueKind);
        var error = Assert.Single(json.GetProperty("errors").EnumerateArray());
        Assert.Equal(5021, error.GetProperty("code").GetInt32());
        var message = error.GetProperty("message").GetString()!;
        Assert.StartsWith("The estimated number of input and maximum output tokens (", message, StringComparison.Ordinal);
        Assert.Contains($"exceeded this model context window limit ({Window})", message, StringComparison.Ordinal);
        Assert.EndsWith($"Shorten '{field}' or lower max_tokens. (at '{field}')", message, StringComparison.Ordinal);
    }

    private static string AssertOpenAiRefusal(HttpStatusCode status, JsonElement json, string field)
    {
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = json.GetProperty("error");
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        Assert.Equal("context_length_exceeded", error.GetProperty("code").GetString());
        Assert.Equal(field, error.GetProperty("param").GetString());
        var message = error.GetProperty("message").GetString()!;
        Assert.StartsWith($"This model's maximum context length is {Window} tokens. However, you requested ", message, StringComparison.Ordinal);
        Assert.EndsWith($"Please reduce the length of the {field} or completion.", message, StringComparison.Ordinal);
        return message;
    }

    [Theory]
    [InlineData("WorkersAi", true)]
    [InlineData("OpenAi", true)]
    [InlineData("WorkersAi", false)] // no tokenizer configured: the byte estimate still refuses
    public async Task HundredThousandCharacters_AreRefused_OnEverySurface_AndNothingIsForwarded(string kind, bool tokenizers)
    {
        var (upstream, gateway) = await StartAsync(kind, tokenizers);
        await using var ownedUpstream = upstream;
        await using var ownedGateway = gateway;
        var huge = JsonSerializer.Serialize(Huge);

        var (status, json) = await PostAsync(gateway, $"ai/run/{Int8}", $$"""{"prompt":{{huge}}}""");
        AssertWorkersAiRefusal(status, json, "prompt");
        (status, json) = await PostAsync(gateway, $"client/v4/accounts/acc/ai/run/{Int8}", $$"""{"messages":[{"role":"user","content":{{huge}}}]}""");
        AssertWorkersAiRefusal(status, json, "messages");
        (status, json) = await PostAsync(gateway, "v1/chat/completions", $$"""{"model":"{{Int8}}","messages":[{"role":"user","content":{{huge}}}]}""");
        AssertOpenAiRefusal(status, json, "messages");
        (status, json) = await PostAsync(gateway, "v1/completions", $$"""{"model":"{{Int8}}","prompt":{{huge}},"max_tokens":16}""");
        AssertOpenAiRefusal(status, json, "prompt");

        Assert.Empty(upstream.Received);
    }

    [Fact]
    public async Task PromptThatFillsTheWindow_IsForwarded_OneMoreTokenIsRefused()
    {
        var (upstream, gateway) = await StartAsync();
        await using var ownedUpstream = upstream;
        await using var ownedGateway = gateway;
        var text = TextOfAtLeast(1200);
        var maxTokens = Window - RawTokens(text);
        var longer = text + " Again.";
        Assert.True(RawTokens(longer) > RawTokens(text));
        var path = $"client/v4/accounts/acc/ai/run/{Int8}";

        var fits = $$"""{"prompt":{{JsonSerializer.Serialize(text)}},"raw":true,"max_tokens":{{maxTokens}}}""";
        var (status, json) = await PostAsync(gateway, path, fits);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(json.GetProperty("success").GetBoolean());
        Assert.Equal(fits, Assert.Single(upstream.Received).Body);

        (status, json) = await PostAsync(gateway, path, $$"""{"prompt":{{JsonSerializer.Serialize(longer)}},"raw":true,"max_tokens":{{maxTokens}}}""");
        AssertWorkersAiRefusal(status, json, "prompt");
        Assert.Single(upstream.Received);
    }

    [Fact]
    public async Task MaxTokens_Count_GivenOrDefault()
    {
        var (upstream, gateway) = await StartAsync();
        await using var ownedUpstream = upstream;
        await using var ownedGateway = gateway;
        var text = TextOfAtLeast(1850);
        var prompt = RawTokens(text);
        Assert.InRange(prompt, Window - 255, Window - 1); // fits alone, not with the default 256
        var body = JsonSerializer.Serialize(text);
        var path = $"ai/run/{Int8}";

        var (status, json) = await PostAsync(gateway, path, $$"""{"prompt":{{body}},"raw":true,"max_tokens":{{Window - prompt + 1}}}""");
        AssertWorkersAiRefusal(status, json, "prompt");
        Assert.Contains($"({Window + 1}) exceeded", json.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);

        (status, json) = await PostAsync(gateway, path, $$"""{"prompt":{{body}},"raw":true}""");
        AssertWorkersAiRefusal(status, json, "prompt");
        Assert.Contains($"{prompt} in 'prompt' (counted with the model's tokenizer) and 256 for max_tokens (the model's default)",
            json.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Empty(upstream.Received);

        (status, _) = await PostAsync(gateway, path, $$"""{"prompt":{{body}},"raw":true,"max_tokens":{{Window - prompt}}}""");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Single(upstream.Received);
    }

    [Theory]
    [InlineData("WorkersAi")]
    [InlineData("OpenAi")]
    public async Task ChatAtTheWindow_IsForwarded_OnTheOpenAiSurface_OneCompletionTokenMoreIsRefused(string kind)
    {
        var (upstream, gateway) = await StartAsync(kind);
        await using var ownedUpstream = upstream;
        await using var ownedGateway = gateway;
        const string system = "You are a friendly assistant";
        var user = TextOfAtLeast(1500);
        var prompt = ChatTokens(system, user);
        string Body(int maxTokens) => $$"""
            {"model":"{{Int8}}","messages":[{"role":"system","content":"{{system}}"},{"role":"user","content":{{JsonSerializer.Serialize(user)}}}],"max_tokens":{{maxTokens}}}
            """;

        var (status, _) = await PostAsync(gateway, "v1/chat/completions", Body(Window - prompt));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Single(upstream.Received);

        (status, var json) = await PostAsync(gateway, "v1/chat/completions", Body(Window - prompt + 1));
        var message = AssertOpenAiRefusal(status, json, "messages");
        Assert.Contains($"you requested {Window + 1} tokens ({prompt} in the messages, {Window - prompt + 1} in the completion)", message, StringComparison.Ordinal);
        Assert.Single(upstream.Received);
    }
}
