using System.Text.Json;
using System.Text.RegularExpressions;
using Gateway.Formatting;
using Gateway.Generation;
using Gateway.Upstreams;
using static Gateway.Tests.TestRequests;

namespace Gateway.Tests.Formatting;

public sealed partial class OpenAiFormatterTests
{
    private const long Now = 1_700_000_000;
    private static readonly Usage SomeUsage = new(1, 2, 3);
    private readonly OpenAiFormatter _formatter = new(new FixedTime(DateTimeOffset.FromUnixTimeSeconds(Now)));

    private static GenerationRequest Chat(bool stream = false, bool includeUsage = false, string model = Renamed)
    {
        var options = includeUsage ? """{"include_usage":true}""" : "null";
        return OpenAiRequest($$"""{"model":"{{model}}","messages":[{"role":"user","content":"hi"}],"stream":{{(stream ? "true" : "false")}},"stream_options": {{options}} }""");
    }

    private static GenerationRequest Completion(bool stream = false) =>
        OpenAiRequest($$"""{"model":"{{Llama2}}","prompt":"hi","stream":{{(stream ? "true" : "false")}} }""", ClientApi.OpenAiCompletions);

    [GeneratedRegex("^chatcmpl-[0-9a-f]{24}$")]
    private static partial Regex ChatId();

    [GeneratedRegex("^cmpl-[0-9a-f]{24}$")]
    private static partial Regex CompletionId();

    [GeneratedRegex("^call_0_[0-9a-f]{12}$")]
    private static partial Regex GeneratedCallId();

    /// <summary>The JSON with its random <c>id</c> replaced, so the rest can be compared exactly.</summary>
    private static string WithoutId(string json, Regex id)
    {
        var root = Json(json);
        Assert.Matches(id, root.GetProperty("id").GetString()!);
        return JsonSerializer.Serialize(root.EnumerateObject().ToDictionary(p => p.Name, p => p.Name == "id" ? Json("\"ID\"") : p.Value));
    }

    [Fact]
    public void ChatResult_HasTheChatCompletionShape_WithTheCatalogModelId()
    {
        using var request = Chat();
        var body = Text(_formatter.FormatResult(request, new GenerationResult { Text = "Hello", Usage = SomeUsage, FinishReason = "length" }, native: false));

        Assert.Equal(Compact($$$"""
            {"id":"ID","object":"chat.completion","created":{{{Now}}},"model":"{{{Renamed}}}",
             "choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"logprobs":null,"finish_reason":"length"}],
             "usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}
            """), WithoutId(body, ChatId()));
    }

    [Fact]
    public void MissingFinishReason_IsStop_AndMissingUsageIsLeftOut()
    {
        using var request = Chat();
        var root = Json(_formatter.FormatResult(request, new GenerationResult { Text = "x" }, native: false));

        Assert.Equal("stop", root.GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.False(root.TryGetProperty("usage", out _));
    }

    [Fact]
    public void ToolCalls_WithoutText_HaveNullContent_AndIdsForEveryCall()
    {
        using var request = Chat();
        var result = new GenerationResult
        {
            Text = "",
            ToolCalls = [new ToolCall(null, "get_weather", """{"city":"Paris"}"""), new ToolCall("call_up", "now", "{}")],
            FinishReason = "tool_calls",
        };

        var message = Json(_formatter.FormatResult(request, result, native: false)).GetProperty("choices")[0].GetProperty("message");

        Assert.Equal(JsonValueKind.Null, message.GetProperty("content").ValueKind);
        var calls = message.GetProperty("tool_calls");
        Assert.Matches(GeneratedCallId(), calls[0].GetProperty("id").GetString()!);
        Assert.Equal(Compact("""{"type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}"""),
            JsonSerializer.Serialize(calls[0].EnumerateObject().Where(p => p.Name != "id").ToDictionary(p => p.Name, p => p.Value)));
        Assert.Equal(Compact("""{"id":"call_up","type":"function","function":{"name":"now","arguments":"{}"}}"""), JsonSerializer.Serialize(calls[1]));
        Assert.False(calls[0].TryGetProperty("index", out _));
    }

    [Fact]
    public void ToolCalls_WithText_KeepTheText()
    {
        using var request = Chat();
        var result = new GenerationResult { Text = "Let me check.", ToolCalls = [new ToolCall("c", "f", "{}")] };

        var message = Json(_formatter.FormatResult(request, result, native: false)).GetProperty("choices")[0].GetProperty("message");

        Assert.Equal("Let me check.", message.GetProperty("content").GetString());
    }

    [Fact]
    public void CompletionResult_HasTheTextCompletionShape()
    {
        using var request = Completion();
        var body = Text(_formatter.FormatResult(request, new GenerationResult { Text = " there", Usage = SomeUsage }, native: false));

        Assert.Equal(Compact($$$"""
            {"id":"ID","object":"text_completion","created":{{{Now}}},"model":"{{{Llama2}}}",
             "choices":[{"index":0,"text":" there","logprobs":null,"finish_reason":"stop"}],
             "usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}
            """), WithoutId(body, CompletionId()));
    }

    [Fact]
    public void Native_RelaysTheUpstreamObjectUnchanged()
    {
        using var request = Chat();
        const string upstream = """{"id":"up-1","object":"chat.completion","created":1,"model":"served-name","choices":[{"index":0,"message":{"role":"assistant","content":"<hi>"},"finish_reason":"stop"}],"system_fingerprint":"fp"}""";

        Assert.Equal(upstream, Text(_formatter.FormatResult(request, new GenerationResult { Text = "x", Native = Json(upstream) }, native: true)));
    }

    [Fact]
    public void Native_RelaysTheUpstreamBytes_WithItsWhitespaceAndEscapes()
    {
        using var request = Chat();
        const string upstream = "{ \"id\": \"up-1\", \"choices\": [ { \"message\": { \"content\": \"\\u003Chi>\" } } ] }";

        Assert.Equal(upstream, Text(_formatter.FormatResult(request, new GenerationResult { Text = "x", Native = Json(upstream) }, native: true)));
    }

    [Fact]
    public void ChatStream_RoleFirst_ContentChunks_AFinishChunk_UsageWhenAsked_ThenDone()
    {
        using var request = Chat(stream: true, includeUsage: true);
        var stream = _formatter.CreateStream(request, native: false);
        var output = new List<string>();

        stream.OnDelta(new StreamDelta { Text = "Hel" }, output);
        stream.OnDelta(new StreamDelta { Text = "" }, output);
        stream.OnDelta(new StreamDelta { Text = "lo" }, output);
        stream.OnDelta(new StreamDelta { FinishReason = "length" }, output);
        stream.OnDelta(new StreamDelta { Usage = SomeUsage }, output);
        stream.OnEnd(output);

        Assert.Equal("[DONE]", output[^1]);
        var chunks = output.SkipLast(1).Select(Json).ToList();
        Assert.Equal(4, chunks.Count);
        var id = chunks[0].GetProperty("id").GetString()!;
        Assert.Matches(ChatId(), id);
        Assert.All(chunks, c =>
        {
            Assert.Equal(id, c.GetProperty("id").GetString());
            Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString());
            Assert.Equal(Now, c.GetProperty("created").GetInt64());
            Assert.Equal(Renamed, c.GetProperty("model").GetString());
        });
        string Choice(int i) => JsonSerializer.Serialize(chunks[i].GetProperty("choices"));
        Assert.Equal(Compact("""[{"index":0,"delta":{"role":"assistant","content":"Hel"},"logprobs":null,"finish_reason":null}]"""), Choice(0));
        Assert.Equal(Compact("""[{"index":0,"delta":{"content":"lo"},"logprobs":null,"finish_reason":null}]"""), Choice(1));
        Assert.Equal(Compact("""[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}]"""), Choice(2));
        Assert.Equal("[]", Choice(3));
        Assert.Equal(Compact("""{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}"""), JsonSerializer.Serialize(chunks[3].GetProperty("usage")));
    }

    [Fact]
    public void ChatStream_WithoutAFinish_EndsWithStop_AndNoUsageUnlessAsked()
    {
        using var request = Chat(stream: true);
        var stream = _formatter.CreateStream(request, native: false);
        var output = new List<string>();

        stream.OnDelta(new StreamDelta { Text = "", Usage = SomeUsage }, output);
        stream.OnEnd(output);

        Assert.Equal(3, output.Count);
        Assert.Equal(Compact("""[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]"""),
            JsonSerializer.Serialize(Json(output[0]).GetProperty("choices")));
        Assert.Equal("stop", Json(output[1]).GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal("[DONE]", output[2]);
    }

    [Fact]
    public void ChatStream_ToolCalls_CarryIndexes()
    {
        using var request = Chat(stream: true);
        var stream = _formatter.CreateStream(request, native: false);
        var output = new List<string>();

        stream.OnDelta(new StreamDelta { FinishReason = "tool_calls", ToolCalls = [new ToolCall("a", "f", "{}"), new ToolCall("b", "g", """{"x":1}""")] }, output);
        stream.OnEnd(output);

        var delta = Json(output[0]).GetProperty("choices")[0].GetProperty("delta");
        Assert.Equal(Compact("""
            {"role":"assistant","content":"","tool_calls":[
              {"index":0,"id":"a","type":"function","function":{"name":"f","arguments":"{}"}},
              {"index":1,"id":"b","type":"function","function":{"name":"g","arguments":"{\"x\":1}"}}]}
            """), JsonSerializer.Serialize(delta));
        Assert.Equal("tool_calls", Json(output[1]).GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.Equal(["[DONE]"], output.Skip(2));
    }

    [Fact]
    public void CompletionStream_UsesTextChunks()
    {
        using var request = Completion(stream: true);
        var stream = _formatter.CreateStream(request, native: false);
        var output = new List<string>();

        stream.OnDelta(new StreamDelta { Text = "Once" }, output);
        stream.OnDelta(new StreamDelta { Text = " upon", FinishReason = "stop" }, output);
        stream.OnEnd(output);

        Assert.Equal(4, output.Count);
        var chunks = output.SkipLast(1).Select(Json).ToList();
        Assert.Matches(CompletionId(), chunks[0].GetProperty("id").GetString()!);
        Assert.All(chunks, c => Assert.Equal("text_completion", c.GetProperty("object").GetString()));
        Assert.Equal(Compact("""[{"index":0,"text":"Once","logprobs":null,"finish_reason":null}]"""), JsonSerializer.Serialize(chunks[0].GetProperty("choices")));
        Assert.Equal(Compact("""[{"index":0,"text":" upon","logprobs":null,"finish_reason":null}]"""), JsonSerializer.Serialize(chunks[1].GetProperty("choices")));
        Assert.Equal(Compact("""[{"index":0,"text":"","logprobs":null,"finish_reason":"stop"}]"""), JsonSerializer.Serialize(chunks[2].GetProperty("choices")));
        Assert.Equal("[DONE]", output[^1]);
    }

    [Fact]
    public void NativeStream_RelaysEveryEventAsIs_AndAddsDoneItself()
    {
        using var request = Chat(stream: true, includeUsage: true);
        var stream = _formatter.CreateStream(request, native: true);
        var output = new List<string>();

        stream.OnDelta(new StreamDelta { Text = "a", NativeData = """{"id":"up","choices":[{"index":0,"delta":{"content":"a"}}]}""" }, output);
        stream.OnDelta(new StreamDelta { Usage = SomeUsage, NativeData = """{"id":"up","choices":[],"usage":{"total_tokens":3}}""" }, output);
        stream.OnDelta(new StreamDelta { Done = true, NativeData = "[DONE]" }, output);
        stream.OnEnd(output);

        Assert.Equal(["""{"id":"up","choices":[{"index":0,"delta":{"content":"a"}}]}""", """{"id":"up","choices":[],"usage":{"total_tokens":3}}""", "[DONE]"], output);
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
