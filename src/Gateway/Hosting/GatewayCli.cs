using System.CommandLine;
using Microsoft.AspNetCore.Builder;

namespace Gateway.Hosting;

/// <summary>The command line: <c>serve</c> (the default verb) runs the gateway.</summary>
public static class GatewayCli
{
    /// <summary>Parses the arguments and runs the chosen verb.</summary>
    public static Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand(
            "Content-safety moderation gateway for LLM traffic (Workers AI and OpenAI APIs, Llama Guard).\n" +
            "Without a verb it serves. Options not listed here are configuration overrides, for example\n" +
            "  --Gateway:LogContent=true  --ReverseProxy:Clusters:vllm:Destinations:d1:Address=http://127.0.0.1:8000");
        var serve = new Command("serve", "Serve the gateway (the default verb).");
        foreach (var command in new[] { root, serve })
        {
            var urls = new Option<string>("--urls") { Description = "Addresses to listen on (default http://127.0.0.1:8080)." };
            var config = new Option<string>("--config") { Description = "An extra JSON configuration file, applied over appsettings.json." };
            command.Options.Add(urls);
            command.Options.Add(config);
            command.TreatUnmatchedTokensAsErrors = false;
            command.SetAction((result, cancellationToken) =>
            {
                var hostArgs = new List<string>(result.UnmatchedTokens);
                if (result.GetValue(urls) is { } u) { hostArgs.AddRange(["--urls", u]); }
                if (result.GetValue(config) is { } c) { hostArgs.AddRange(["--config", c]); }
                return ServeAsync([.. hostArgs], cancellationToken);
            });
        }
        root.Subcommands.Add(serve);
        foreach (var verb in GuardCommands.Create())
        {
            root.Subcommands.Add(verb);
        }
        return root.Parse(args).InvokeAsync();
    }

    private static async Task<int> ServeAsync(string[] args, CancellationToken cancellationToken)
    {
        var app = GatewayHost.Build(GatewayHost.CreateBuilder(args));
        await app.RunAsync(cancellationToken);
        return 0;
    }
}
