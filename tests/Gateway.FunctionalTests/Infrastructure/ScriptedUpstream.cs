using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>A request the scripted upstream received.</summary>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>A real HTTP server on loopback that speaks the Workers AI REST protocol
/// (<c>/client/v4/accounts/{id}/ai/run/{model}</c>) and the OpenAI protocol (<c>/v1/chat/completions</c>,
/// <c>/v1/completions</c>), streamed or not. Its answers are scripted: by default it replies with
/// <see cref="Words"/>; a test can replace the handler to script errors, stalls and malformed output.</summary>
public sealed class ScriptedUpstream : IAsyncDisposable
{
    /// <summary>The default completion, one token per word.</summary>
    public static readonly string[] Words = ["Scripted", " upstream", " says", " hello", "."];

    private readonly WebApplication _app;

    private ScriptedUpstream(WebApplication app, Uri address)
    {
        _app = app;
        BaseAddress = address;
    }

    public Uri BaseAddress { get; }

    /// <summary>Every request received, in order.</summary>
    public ConcurrentQueue<ReceivedRequest> Received { get; } = new();

    /// <summary>When set, handles requests instead of the default script.</summary>
    public Func<HttpContext, string, Task>? Handler { get; set; }

    public ReceivedRequest LastRequest => Received.Last();

    public static async Task<ScriptedUpstream> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        ScriptedUpstream? self = null;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            self!.Received.Enqueue(new ReceivedRequest(context.Request.Method, context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), body));
            await (self.Handler ?? DefaultAsync)(context, body);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        self = new ScriptedUpstream(app, new Uri(address.TrimEnd('/') + "/"));
        return self;
    }

    /// <summary>The default script: a correct answer in whichever protocol the path asks for.</summary>
    public static async Task DefaultAsync(HttpContext context, string body)
    {
        var path = context.Request.Path.Value ?? "";
        using var doc = JsonDocument.Parse(body);
        var stream = doc.RootElement.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        if (path.Contains("/ai/run/", StringComparison.Ordinal))
        {
            await WorkersAiAsync(context, stream);
        }
        else if (path.EndsWith("/v1/chat/completions", StringComparison.Ordinal) || path.EndsWith("/v1/completions", StringComparison.Ordinal))
        {
            var chat = path.EndsWith("/chat/completions", StringComparison.Ordinal);
            var includeUsage = doc.RootElement.TryGetProperty("stream_options", out var so) && so.TryGetProperty("include_usage", out var iu) && iu.GetBoolean();
            var model = doc.RootElement.TryGetProperty("model", out var m) ? m.GetString() : "unknown";
            await OpenAiAsync(context, chat, stream, includeUsage, model!);
        }
        else
        {
            context.Response.StatusCode = 404;
        }
    }

    public static async Task WorkersAiAsync(HttpContext context, bool stream)
    {
        if (!stream)
        {
            await WriteJsonAsync(context, 200, new
            {
                result = new { response = string.Concat(Words), usage = new { prompt_tokens = 7, completion_tokens = Words.Length, total_tokens = 7 + Words.Length } },
                success = true,
                errors = Array.Empty<object>(),
                messages = Array.Empty<object>(),
            });
            return;
        }
        context.Response.ContentType = "text/event-stream";
        foreach (var word in Words)
        {
            await WriteEventAsync(context, JsonSerializer.Serialize(new { response = word, p = "abcdef" }));
        }
        await WriteEventAsync(context, JsonSerializer.Serialize(new { response = "", usage = new { prompt_tokens = 7, completion_tokens = Words.Length, total_tokens = 7 + Words.Length } }));
        await WriteEventAsync(context, "[DONE]");
    }

    public static async Task OpenAiAsync(HttpContext context, bool chat, bool stream, bool includeUsage, string model)
    {
        var usage = new { prompt_tokens = 7, completion_tokens = Words.Length, total_tokens = 7 + Words.Length };
        if (!stream)
        {
            object choice = chat
                ? new { index = 0, message = new { role = "assistant", content = string.Concat(Words) }, logprobs = (object?)null, finish_reason = "stop" }
                : new { index = 0, text = string.Concat(Words), logprobs = (object?)null, finish_reason = "stop" };
            await WriteJsonAsync(context, 200, new
            {
                id = "up-1",
                @object = chat ? "chat.completion" : "text_completion",
                created = 1700000000,
                model,
                choices = new[] { choice },
                usage,
            });
            return;
        }
        context.Response.ContentType = "text/event-stream";
        for (var i = 0; i <= Words.Length; i++)
        {
            var last = i == Words.Length;
            object choice = chat
                ? new { index = 0, delta = last ? (object)new { } : i == 0 ? new { role = "assistant", content = Words[i] } : new { content = Words[i] }, logprobs = (object?)null, finish_reason = last ? "stop" : null }
                : new { index = 0, text = last ? "" : Words[i], logprobs = (object?)null, finish_reason = last ? "stop" : null };
            await WriteEventAsync(context, JsonSerializer.Serialize(new
            {
                id = "up-1",
                @object = chat ? "chat.completion.chunk" : "text_completion",
                created = 1700000000,
                model,
                choices = new[] { choice },
            }));
        }
        if (includeUsage)
        {
            await WriteEventAsync(context, JsonSerializer.Serialize(new
            {
                id = "up-1",
                @object = chat ? "chat.completion.chunk" : "text_completion",
                created = 1700000000,
                model,
                choices = Array.Empty<object>(),
                usage,
            }));
        }
        await WriteEventAsync(context, "[DONE]");
    }

    public static async Task WriteEventAsync(HttpContext context, string data)
    {
        await context.Response.WriteAsync($"data: {data}\n\n");
        await context.Response.Body.FlushAsync();
    }

    /// <summary>Sends the status and headers at once, then nothing until the caller goes away.</summary>
    public static async Task StallAfterHeadersAsync(HttpContext context, int status, string contentType)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        await context.Response.StartAsync();
        await context.Response.Body.FlushAsync();
        await StallAsync(context);
    }

    /// <summary>Sends nothing more until the caller goes away.</summary>
    public static async Task StallAsync(HttpContext context)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Writes <paramref name="text"/> <paramref name="bytesPerWrite"/> bytes at a time, flushing each write and
    /// pausing <paramref name="pause"/> between writes; stops quietly when the caller goes away.</summary>
    public static async Task DripAsync(HttpContext context, string text, int bytesPerWrite, TimeSpan pause)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        try
        {
            for (var i = 0; i < bytes.Length; i += bytesPerWrite)
            {
                if (i > 0)
                {
                    await Task.Delay(pause, context.RequestAborted);
                }
                await context.Response.Body.WriteAsync(bytes.AsMemory(i, Math.Min(bytesPerWrite, bytes.Length - i)), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
        }
    }

    /// <summary>Drips spaces, one every <paramref name="pause"/>, until the caller goes away (spaces are valid JSON
    /// whitespace, so the body never goes silent and never becomes invalid).</summary>
    public static async Task DripForeverAsync(HttpContext context, TimeSpan pause)
    {
        try
        {
            while (true)
            {
                await context.Response.Body.WriteAsync(" "u8.ToArray(), context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
                await Task.Delay(pause, context.RequestAborted);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException && context.RequestAborted.IsCancellationRequested)
        {
        }
    }

    public static async Task WriteJsonAsync(HttpContext context, int status, object body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
