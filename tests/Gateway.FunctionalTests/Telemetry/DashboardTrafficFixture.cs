using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gateway.FunctionalTests.Infrastructure;
using Xunit;

namespace Gateway.FunctionalTests.Telemetry;

/// <summary>A gateway that has served scripted traffic, scraped by a real Prometheus: the gateway in a process of its
/// own (so its metrics are its own) with its metrics on their own port, as in the compose stack, enforcing policies
/// through the real remote engine on a <see cref="ScriptedGuardServer"/>, forwarding to a <see cref="ScriptedUpstream"/>. The same traffic is sent in two
/// rounds, each waited for until Prometheus has scraped it, so every counter and histogram the traffic touches has
/// increased between two of Prometheus's samples and rates over them are above zero.</summary>
public sealed class DashboardTrafficFixture : IAsyncLifetime
{
    public const string Strict = "@cf/meta/llama-2-7b-chat-fp16";
    public const string Lenient = "@cf/meta/llama-3.1-8b-instruct-awq";

    /// <summary>The Prometheus job of the gateway.</summary>
    public const string Job = "gateway";

    private const string ViolenceMarker = "SCRIPTED-VIOLENCE";
    private const string WeaponMarker = "SCRIPTED-WEAPON";
    private const string HateMarker = "SCRIPTED-HATE";
    private const string UnsafeReplyMarker = "SCRIPTED-UNSAFE-REPLY";
    private const string FailMarker = "SCRIPTED-GUARD-FAILS";

    private const string PolicyFile = """
        policies:
          - name: strict
            description: Blocks every category, fails closed, holds streams window by window.
            prompt: { defaultAction: block, failMode: closed, timeout: 30s }
            response: { defaultAction: block, failMode: closed, timeout: 10s, streaming: { mode: windowed, window: 16, minWindow: 4, holdBack: 4 } }
          - name: lenient
            description: Flags prompts and fails open.
            match: { models: ["@cf/meta/llama-3.1-8b-instruct-awq"] }
            prompt: { defaultAction: flag, failMode: open, timeout: 30s }
            response: { check: false }
        """;

    // Bounds on waiting for Prometheus: far beyond the few one-second scrapes each wait needs.
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);

    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-dashboard-").FullName;
    private ScriptedUpstream? _upstream;
    private ScriptedGuardServer? _guard;
    private GatewayProcess? _gateway;
    private int _sent;

    public PrometheusServer Prometheus { get; private set; } = null!;

    /// <summary>The gateway's metrics port (<c>Telemetry:Prometheus:Port</c>).</summary>
    public int MetricsPort { get; private set; }

    /// <summary>The text-generation requests sent, all rounds together.</summary>
    public int Sent => _sent;

    public async Task InitializeAsync()
    {
        var file = Path.Combine(_directory, "policies.yaml");
        await File.WriteAllTextAsync(file, PolicyFile);
        _upstream = await ScriptedUpstream.StartAsync();
        _guard = await ScriptedGuardServer.StartAsync();
        _guard.Answer(ViolenceMarker, "unsafe\nS1", role: "User")
            .Answer(WeaponMarker, "unsafe\nS9", role: "User")
            .Answer(HateMarker, "unsafe\nS10", role: "User")
            .Answer(UnsafeReplyMarker, "unsafe\nS6", role: "Agent")
            .Fail(FailMarker, 500);

        MetricsPort = FreePort();
        var config = BootstrapTokenizers.Configured(GatewayServer.RouteAllTo(_upstream, "OpenAi"));
        foreach (var (key, value) in ScriptedGuardServer.GuardWith(_guard))
        {
            config[key] = value;
        }
        config["Guard:Remote:MaxAttempts"] = "1";
        config["Policies:Files:0"] = file;
        config["Policies:Watch"] = "false";
        config["Telemetry:Prometheus:Enabled"] = "true";
        config["Telemetry:Prometheus:Port"] = MetricsPort.ToString(CultureInfo.InvariantCulture);
        config["Urls"] = $"http://127.0.0.1:{FreePort()};http://127.0.0.1:{MetricsPort}";
        _gateway = await GatewayProcess.StartAsync(GatewayProcess.Environment(config));

        Prometheus = await PrometheusServer.StartAsync(Job, [$"127.0.0.1:{MetricsPort}"]);
        await Prometheus.WaitUntilAsync($"up{{job=\"{Job}\"}}", s => s.Count == 1 && s[0].Value == 1, "the gateway scraped", WaitLimit);

        for (var round = 1; round <= 2; round++)
        {
            await SendRoundAsync(round);
            // Every request is counted once it finished; the scrape that shows them all came after the round.
            var expected = _sent;
            await Prometheus.WaitUntilAsync($"sum(gateway_requests_total{{job=\"{Job}\"}})",
                s => s.Count == 1 && s[0].Value >= expected, $"round {round}'s {expected} requests scraped", WaitLimit);
        }
    }

    public async Task DisposeAsync()
    {
        if (Prometheus is not null)
        {
            await Prometheus.DisposeAsync();
        }
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
        if (_guard is not null)
        {
            await _guard.DisposeAsync();
        }
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>One round: allowed and flagged requests, repeats (verdict cache hits), blocked prompts in two categories,
    /// a stream stopped by the response check and one let through, a guard failure under each fail mode.</summary>
    private async Task SendRoundAsync(int round)
    {
        await ExpectAsync("ai/run/" + Strict, """{"prompt":"hello there"}""", HttpStatusCode.OK, "allowed");
        for (var i = 0; i < 3; i++)
        {
            await ExpectAsync("ai/run/" + Strict, """{"prompt":"hello there"}""", HttpStatusCode.OK, "allowed");
        }
        await ExpectAsync("ai/run/" + Strict, $$"""{"prompt":"a question never asked before, round {{round}}"}""", HttpStatusCode.OK, "allowed");
        await ExpectAsync("ai/run/" + Strict, $$"""{"prompt":"please {{ViolenceMarker}}"}""", HttpStatusCode.BadRequest, "blocked");
        await ExpectAsync("v1/chat/completions", Chat(Strict, $"please {WeaponMarker}", stream: false), HttpStatusCode.BadRequest, "blocked");
        var stopped = await ExpectAsync("ai/run/" + Strict, $$"""{"prompt":"{{UnsafeReplyMarker}}","stream":true}""", HttpStatusCode.OK, "allowed");
        Check(stopped.Contains("2017", StringComparison.Ordinal), $"the response check did not stop the stream: {stopped}");
        var streamed = await ExpectAsync("v1/chat/completions", Chat(Strict, "tell me a story", stream: true), HttpStatusCode.OK, "allowed");
        Check(streamed.Contains("[DONE]", StringComparison.Ordinal), $"the allowed stream did not end normally: {streamed}");
        await ExpectAsync("v1/chat/completions", Chat(Lenient, $"please {HateMarker}", stream: false), HttpStatusCode.OK, "flagged");
        await ExpectAsync("ai/run/" + Lenient, $$"""{"prompt":"{{FailMarker}}"}""", HttpStatusCode.OK, "fail-open");
        await ExpectAsync("ai/run/" + Strict, $$"""{"prompt":"{{FailMarker}}"}""", HttpStatusCode.ServiceUnavailable, "fail-closed");
    }

    private async Task<string> ExpectAsync(string path, string body, HttpStatusCode status, string promptOutcome)
    {
        using var response = await _gateway!.Client.SendAsync(ProxyRoundTripTests.Post(path, body));
        var text = await response.Content.ReadAsStringAsync();
        Interlocked.Increment(ref _sent);
        var outcome = response.Headers.TryGetValues("x-moderation-prompt", out var values) ? string.Join(",", values) : null;
        Check(response.StatusCode == status && outcome == promptOutcome,
            $"POST /{path} {body}: expected {(int)status} with prompt {promptOutcome}, got {(int)response.StatusCode} with prompt {outcome}: {text}");
        return text;
    }

    private static string Chat(string model, string content, bool stream) =>
        $$"""{"model":"{{model}}","messages":[{"role":"user","content":"{{content}}"}],"stream":{{(stream ? "true" : "false")}}}""";

    private static void Check(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException("The scripted traffic did not go as scripted: " + message);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
