using System.Net;
using System.Text;
using System.Text.Json;
using Gateway.FunctionalTests.Infrastructure;
using Gateway.Guarding;
using Guard.Engines;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.FunctionalTests.Guarding;

/// <summary>Starts the real gateway with its shipped configuration (Llama Guard served by the in-process "guard"
/// upstream) and a given guard engine, and talks to it over real sockets.</summary>
internal static class GuardGateway
{
    /// <summary>The Llama Guard model the shipped configuration routes to the guard upstream.</summary>
    public const string Model = ScriptedGuardEngine.LlamaGuard7bAwq;

    /// <summary>The unsafe answer scripted for the marker word <see cref="UnsafeMarker"/>.</summary>
    public const string UnsafeOutput = "unsafe\nO3";

    /// <summary>The word in a judged text that makes the scripted model answer <see cref="UnsafeOutput"/>.</summary>
    public const string UnsafeMarker = "HOTWIRE";

    /// <summary>The short Workers AI path and the REST path (with its envelope) of the served model.</summary>
    public static TheoryData<string> Paths => new() { ShortPath, RestPath };

    public const string ShortPath = "ai/run/" + Model;

    public const string RestPath = "client/v4/accounts/client-account/ai/run/" + Model;

    /// <summary>The engine most tests use: HOTWIRE -> <c>unsafe\nO3</c> with probability 0.87, otherwise <c>safe</c>.</summary>
    public static ScriptedGuardEngine Engine() => new ScriptedGuardEngine().Answer(UnsafeMarker, UnsafeOutput, 0.87);

    /// <summary>Starts the gateway with <paramref name="engine"/>, or with none (the shipped <c>Guard:Engine</c> None).</summary>
    public static Task<GatewayServer> StartAsync(IGuardEngine? engine, Dictionary<string, string?>? overrides = null)
    {
        overrides ??= [];
        // Explicit, so an environment variable on the test machine cannot configure a real engine.
        overrides.TryAdd("Guard:Engine", "None");
        return GatewayServer.StartAsync(overrides, engine is null ? null : services => services.AddSingleton(new GuardEngineProvider(engine)));
    }

    /// <summary>POSTs a JSON body and returns the status, the parsed body (or its text when not JSON) and the response.</summary>
    public static async Task<GuardResponse> PostAsync(GatewayServer gateway, string path, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await gateway.Client.PostAsync(new Uri(path, UriKind.Relative), content);
        var text = await response.Content.ReadAsStringAsync();
        JsonElement? body = null;
        try
        {
            body = JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            // Not JSON (an SSE stream); the text is kept.
        }
        return new GuardResponse(response.StatusCode, response.Content.Headers.ContentType?.MediaType, text, body,
            response.Headers.TryGetValues("Deprecation", out var deprecation) ? deprecation.Single() : null);
    }

    /// <summary>The Workers AI result object: the body on the short path, <c>result</c> of the envelope on the REST path.</summary>
    public static JsonElement Result(string path, JsonElement body)
    {
        if (!path.StartsWith("client/v4/", StringComparison.Ordinal))
        {
            return body;
        }
        Assert.True(body.GetProperty("success").GetBoolean(), body.ToString());
        Assert.Equal(0, body.GetProperty("errors").GetArrayLength());
        return body.GetProperty("result");
    }

    /// <summary>Asserts a Workers AI error envelope with one error and returns that error's message.</summary>
    public static string AssertWorkersAiError(GuardResponse response, HttpStatusCode status, int code)
    {
        Assert.True(response.Status == status, $"expected {(int)status}, got {(int)response.Status}: {response.Text}");
        Assert.Equal("application/json", response.ContentType);
        var body = response.Json;
        Assert.False(body.GetProperty("success").GetBoolean());
        var error = Assert.Single(body.GetProperty("errors").EnumerateArray());
        Assert.Equal(code, error.GetProperty("code").GetInt32());
        Assert.Equal(0, body.GetProperty("messages").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("result").ValueKind);
        return error.GetProperty("message").GetString()!;
    }

    /// <summary>Asserts an OpenAI error envelope and returns its <c>error</c> object.</summary>
    public static JsonElement AssertOpenAiError(GuardResponse response, HttpStatusCode status, string type)
    {
        Assert.True(response.Status == status, $"expected {(int)status}, got {(int)response.Status}: {response.Text}");
        Assert.Equal("application/json", response.ContentType);
        var error = response.Json.GetProperty("error");
        Assert.Equal(type, error.GetProperty("type").GetString());
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("message").GetString()));
        return error;
    }

    /// <summary>The data payloads of an SSE body, in order.</summary>
    public static List<string> SseData(string text) =>
        [.. text.ReplaceLineEndings("\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => string.Join('\n', e.Split('\n').Where(l => l.StartsWith("data:", StringComparison.Ordinal)).Select(l => l[5..].TrimStart(' '))))
            .Where(d => d.Length > 0)];
}

/// <summary>A gateway response, read whole.</summary>
internal sealed record GuardResponse(HttpStatusCode Status, string? ContentType, string Text, JsonElement? Body, string? Deprecation)
{
    /// <summary>The JSON body; fails the test when the body is not JSON.</summary>
    public JsonElement Json => Body ?? throw new Xunit.Sdk.XunitException($"The body is not JSON ({(int)Status}): {Text}");
}
