using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.FunctionalTests.BadInput;

namespace Gateway.FunctionalTests.Faults;

/// <summary>Requests for each client surface, and readers for the error envelope each surface answers with.</summary>
public static class FaultClient
{
    public const string Model = "@cf/meta/llama-2-7b-chat-fp16";

    /// <summary>Every upstream kind with every client surface.</summary>
    public static TheoryData<string, Surface> AllPairs
    {
        get
        {
            var data = new TheoryData<string, Surface>();
            foreach (var kind in new[] { "WorkersAi", "OpenAi" })
            {
                foreach (var surface in Enum.GetValues<Surface>())
                {
                    data.Add(kind, surface);
                }
            }
            return data;
        }
    }

    /// <summary>Each client surface once, the upstream kinds alternating, so both kinds and all surfaces appear.</summary>
    public static TheoryData<string, Surface> EachSurface => new()
    {
        { "WorkersAi", Surface.WorkersAiShort },
        { "OpenAi", Surface.WorkersAiRest },
        { "WorkersAi", Surface.OpenAiChat },
        { "OpenAi", Surface.OpenAiCompletions },
    };

    public static bool IsWorkersAi(Surface surface) => surface is Surface.WorkersAiShort or Surface.WorkersAiRest;

    public static string Path(Surface surface) => surface switch
    {
        Surface.WorkersAiShort => $"ai/run/{Model}",
        Surface.WorkersAiRest => $"client/v4/accounts/client-account/ai/run/{Model}",
        Surface.OpenAiChat => "v1/chat/completions",
        _ => "v1/completions",
    };

    public static string Body(Surface surface, bool stream)
    {
        var flag = stream ? "true" : "false";
        return surface switch
        {
            Surface.WorkersAiShort => $$"""{"prompt":"hello","stream":{{flag}}}""",
            Surface.WorkersAiRest => $$"""{"messages":[{"role":"user","content":"hello"}],"stream":{{flag}}}""",
            Surface.OpenAiChat => $$"""{"model":"{{Model}}","messages":[{"role":"user","content":"hello"}],"stream":{{flag}}}""",
            _ => $$"""{"model":"{{Model}}","prompt":"Once upon","stream":{{flag}}}""",
        };
    }

    public static HttpRequestMessage Request(Surface surface, bool stream) =>
        new(HttpMethod.Post, Path(surface)) { Content = new StringContent(Body(surface, stream), Encoding.UTF8, "application/json") };

    /// <summary>A client that gives up well before a hang would end on its own, so a missing deadline fails fast.</summary>
    public static HttpClient ClientFor(Uri gateway) => new() { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(15) };

    /// <summary>Reads one error object in the surface's envelope: the Workers AI code (as text) or the OpenAI code, and the message.</summary>
    public static (string? Code, string Message) ReadError(Surface surface, JsonElement root)
    {
        if (IsWorkersAi(surface))
        {
            Assert.False(root.GetProperty("success").GetBoolean());
            var error = root.GetProperty("errors")[0];
            return (error.GetProperty("code").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), error.GetProperty("message").GetString()!);
        }
        var openAi = root.GetProperty("error");
        return (openAi.GetProperty("code").GetString(), openAi.GetProperty("message").GetString()!);
    }

    /// <summary>Asserts a JSON error response with the status and the code expected on its surface; returns the message.</summary>
    public static async Task<string> AssertErrorResponseAsync(
        HttpResponseMessage response, Surface surface, HttpStatusCode status, int workersAiCode, string? openAiCode)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var (code, message) = ReadError(surface, JsonDocument.Parse(text).RootElement);
        Assert.Equal(IsWorkersAi(surface) ? workersAiCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : openAiCode, code);
        return message;
    }
}
