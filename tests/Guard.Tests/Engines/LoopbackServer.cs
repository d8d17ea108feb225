using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Guard.Tests.Engines;

/// <summary>A real HTTP server on 127.0.0.1 whose answers a test scripts, one handler per call.</summary>
public sealed class LoopbackServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LoopbackServer(WebApplication app, Uri address)
    {
        _app = app;
        BaseAddress = address;
    }

    public Uri BaseAddress { get; }

    /// <summary>Bodies and headers of every request, in order.</summary>
    public ConcurrentQueue<(string Path, string Body, string? Authorization)> Requests { get; } = new();

    /// <summary>Answers call number N (0-based); the last handler answers every later call.</summary>
    public List<Func<HttpContext, Task>> Script { get; } = [];

    public static async Task<LoopbackServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        LoopbackServer? self = null;
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var index = self!.Requests.Count;
            self.Requests.Enqueue((context.Request.Path.Value ?? "", body, context.Request.Headers.Authorization.ToString()));
            await self.Script[Math.Min(index, self.Script.Count - 1)](context);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        self = new LoopbackServer(app, new Uri(address.TrimEnd('/') + "/"));
        return self;
    }

    public static Func<HttpContext, Task> Json(int status, string json, Action<HttpResponse>? headers = null) => async context =>
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        headers?.Invoke(context.Response);
        await context.Response.WriteAsync(json);
    };

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
