using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Hosting;

/// <summary>Builds the gateway's web host; used by the CLI and by tests that run it on real sockets.</summary>
public static class GatewayHost
{
    /// <summary>Creates a builder with the gateway's defaults; <paramref name="args"/> are configuration overrides
    /// (<c>--urls</c>, <c>--Gateway:LogContent=true</c>, ...).</summary>
    public static WebApplicationBuilder CreateBuilder(string[] args, IEnumerable<KeyValuePair<string, string?>>? overrides = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            // appsettings.json ships next to the binary; find it wherever the process was started from.
            ContentRootPath = AppContext.BaseDirectory,
        });
        if (overrides is not null)
        {
            builder.Configuration.AddInMemoryCollection(overrides);
        }
        if (builder.Configuration["config"] is { Length: > 0 } extra)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(extra, Environment.CurrentDirectory), optional: false, reloadOnChange: false);
            builder.Configuration.AddCommandLine(args);
        }
        builder.Services.AddGateway(builder.Configuration);
        return builder;
    }

    /// <summary>Builds the application and maps its endpoints.</summary>
    public static WebApplication Build(WebApplicationBuilder builder) => builder.Build().MapGateway();
}
