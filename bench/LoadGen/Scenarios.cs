using System.Text;

namespace Bench.LoadGen;

/// <summary>One request shape sent to one server. <paramref name="MorePids"/> are further processes of the same
/// server (nginx's workers), whose CPU time counts as the server's.</summary>
internal sealed record Target(Uri Url, byte[] Body, int? ServerPid, IReadOnlyList<int>? MorePids = null)
{
    /// <summary>Every process of the server.</summary>
    public IEnumerable<int> Pids => (ServerPid is { } pid ? [pid] : Enumerable.Empty<int>()).Concat(MorePids ?? []);
}

/// <summary>The same exchange, once straight to the upstream and once through the gateway. <see cref="Direct"/> sends
/// the upstream exactly what the gateway would send it, so both sides do the same upstream work.</summary>
internal sealed record Scenario(string Name, string Title, bool Stream, Target Direct, Target Gateway);

internal static class Scenarios
{
    public const string Model = "@cf/meta/llama-2-7b-chat-fp16";

    private const string Messages =
        """[{"role":"system","content":"You are a helpful assistant."},{"role":"user","content":"Write a short poem about reverse proxies."}]""";

    public static IReadOnlyList<Scenario> All(Options o)
    {
        var upstream = o.UpstreamPid;
        var workersAiRest = new Uri(o.Upstream, $"/client/v4/accounts/bench-account/ai/run/{Model}");
        var upstreamChat = new Uri(o.Upstream, "/v1/chat/completions");
        var gatewayWorkersAi = new Uri(o.GatewayWorkersAi, $"/ai/run/{Model}");
        var gatewayChat = new Uri(o.GatewayOpenAi, "/v1/chat/completions");
        var gatewayTranslated = new Uri(o.GatewayOpenAi, $"/ai/run/{Model}");
        // A plain YARP route in the same gateway process (configured by run.sh): the cost of the proxy hop alone.
        var yarpChat = new Uri(o.GatewayOpenAi, "/yarp/v1/chat/completions");
        // nginx as a reverse proxy in front of the same upstream (started by run.sh when it is installed).
        var nginx = o.Nginx is { } n ? new Target(new Uri(n, "/v1/chat/completions"), OpenAi(false), (o.NginxPids.Count > 0 ? o.NginxPids[0] : null), [.. o.NginxPids.Skip(1)]) : null;

        Scenario Make(string name, string title, bool stream, Uri direct, byte[] directBody, Uri gateway, byte[] gatewayBody, int? gatewayPid) =>
            new(name, title, stream, new Target(direct, directBody, upstream), new Target(gateway, gatewayBody, gatewayPid));

        List<Scenario> all =
        [
            Make("workers-ai", "Workers AI, non-stream", false,
                workersAiRest, WorkersAi(false), gatewayWorkersAi, WorkersAi(false), o.GatewayWorkersAiPid),
            Make("workers-ai-stream", "Workers AI, stream", true,
                workersAiRest, WorkersAi(true), gatewayWorkersAi, WorkersAi(true), o.GatewayWorkersAiPid),
            Make("openai-chat", "OpenAI chat, non-stream", false,
                upstreamChat, OpenAi(false), gatewayChat, OpenAi(false), o.GatewayOpenAiPid),
            Make("openai-chat-stream", "OpenAI chat, stream", true,
                upstreamChat, OpenAi(true), gatewayChat, OpenAi(true), o.GatewayOpenAiPid),
            Make("workers-ai-to-openai", "Workers AI → OpenAI upstream, non-stream", false,
                upstreamChat, Translated(false), gatewayTranslated, WorkersAi(false), o.GatewayOpenAiPid),
            Make("workers-ai-to-openai-stream", "Workers AI → OpenAI upstream, stream", true,
                upstreamChat, Translated(true), gatewayTranslated, WorkersAi(true), o.GatewayOpenAiPid),
            Make("yarp-openai-chat", "Reference: plain YARP route, OpenAI chat, non-stream", false,
                upstreamChat, OpenAi(false), yarpChat, OpenAi(false), o.GatewayOpenAiPid),
            Make("yarp-openai-chat-stream", "Reference: plain YARP route, OpenAI chat, stream", true,
                upstreamChat, OpenAi(true), yarpChat, OpenAi(true), o.GatewayOpenAiPid),
        ];
        if (nginx is not null)
        {
            all.Add(new Scenario("nginx-openai-chat", "Reference: nginx, OpenAI chat, non-stream", false,
                new Target(upstreamChat, OpenAi(false), upstream), nginx));
            all.Add(new Scenario("nginx-openai-chat-stream", "Reference: nginx, OpenAI chat, stream", true,
                new Target(upstreamChat, OpenAi(true), upstream), nginx with { Body = OpenAi(true) }));
        }
        return all;
    }

    internal static byte[] WorkersAi(bool stream) =>
        Utf8($$"""{"messages":{{Messages}},"max_tokens":256{{(stream ? ""","stream":true""" : "")}}}""");

    internal static byte[] OpenAi(bool stream) =>
        Utf8($$"""{"model":"{{Model}}","messages":{{Messages}},"max_tokens":256{{(stream ? ""","stream":true""" : "")}}}""");

    // What the gateway sends an OpenAI-compatible upstream for a Workers AI request (see OpenAiProtocol.Translate).
    private static byte[] Translated(bool stream) =>
        Utf8($$"""{"model":"{{Model}}","messages":{{Messages}},"max_tokens":256,"stream":{{(stream ? "true" : "false")}}{{(stream ? ""","stream_options":{"include_usage":true}""" : "")}}}""");

    private static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}
