using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Gateway.FunctionalTests.OfficialClients;

/// <summary>What a script in tests/Gateway.FunctionalTests/js printed and how it ended.</summary>
public sealed record NodeScriptResult(int ExitCode, string Stdout, string Stderr, JsonElement Report)
{
    /// <summary><c>results.{scenario}</c> of the report.</summary>
    public JsonElement Scenario(string name) => Report.GetProperty("results").GetProperty(name);

    /// <summary>Everything the script wrote, for assertion messages.</summary>
    public string Describe() => $"exit code {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}

/// <summary>Runs the official npm clients (openai, cloudflare) in Node against a gateway, through the scripts in
/// tests/Gateway.FunctionalTests/js, whose packages <c>./eng/bootstrap.sh --tests</c> installs.</summary>
public static class NodeClientScript
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>Packages the scripts import; each must be installed in js/node_modules.</summary>
    private static readonly string[] Packages = ["openai", "cloudflare"];

    /// <summary>Environment variables the clients or Node read that must not leak in from the machine running the tests.</summary>
    private static readonly string[] ScrubbedEnvironment =
    [
        "OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID", "OPENAI_LOG",
        "CLOUDFLARE_API_TOKEN", "CLOUDFLARE_API_KEY", "CLOUDFLARE_EMAIL", "CLOUDFLARE_API_USER_SERVICE_KEY",
        "CLOUDFLARE_BASE_URL", "CLOUDFLARE_LOG", "NODE_OPTIONS", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
        "http_proxy", "https_proxy", "all_proxy",
    ];

    /// <summary>The js folder: found by walking up from the test binaries to the repository that contains it.</summary>
    public static string JsDirectory => FindJsDirectory();

    /// <summary>Runs <c>node {script} {gatewayBaseUrl} [scenario...]</c> in the js folder and parses the JSON report it
    /// prints; with no scenarios named the script runs its default set.</summary>
    public static async Task<NodeScriptResult> RunAsync(string script, Uri gatewayBaseUrl, params string[] scenarios)
    {
        var js = JsDirectory;
        EnsurePackagesInstalled(js);
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = js,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(gatewayBaseUrl.ToString().TrimEnd('/'));
        foreach (var scenario in scenarios)
        {
            start.ArgumentList.Add(scenario);
        }
        foreach (var name in ScrubbedEnvironment)
        {
            start.Environment.Remove(name);
        }
        start.Environment["NO_PROXY"] = "127.0.0.1,localhost";
        start.Environment["NO_COLOR"] = "1";

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            Assert.Fail($"Could not start 'node' ({e.Message}). The official-client tests need Node.js 20+ on PATH; " +
                "then run ./eng/bootstrap.sh --tests to install their npm packages.");
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using (var timeout = new CancellationTokenSource(Timeout))
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                KillById(process.Id);
                await process.WaitForExitAsync();
                Assert.Fail($"node {script} did not finish within {Timeout.TotalSeconds} s and was killed (pid {process.Id}).\n" +
                    $"--- stdout ---\n{await stdout}\n--- stderr ---\n{await stderr}");
            }
        }
        var output = await stdout;
        var errors = await stderr;
        JsonElement report;
        try
        {
            report = JsonDocument.Parse(output).RootElement;
        }
        catch (JsonException e)
        {
            Assert.Fail($"node {script} did not print a JSON report ({e.Message}); exit code {process.ExitCode}.\n" +
                $"--- stdout ---\n{output}\n--- stderr ---\n{errors}");
            throw;
        }
        return new NodeScriptResult(process.ExitCode, output, errors, report);
    }

    /// <summary>Asserts the script exited 0 with <c>ok: true</c>, listing its failed checks otherwise.</summary>
    public static void AssertPassed(NodeScriptResult result)
    {
        var failures = result.Report.TryGetProperty("failures", out var f) ? string.Join("\n", f.EnumerateArray().Select(x => "  " + x.GetString())) : "";
        Assert.True(result.ExitCode == 0 && result.Report.GetProperty("ok").GetBoolean(),
            $"The client script reported failures:\n{failures}\n{result.Describe()}");
    }

    private static void KillById(int pid)
    {
        try
        {
            using var running = Process.GetProcessById(pid);
            running.Kill(entireProcessTree: true);
        }
        catch (ArgumentException)
        {
            // Already exited.
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    private static void EnsurePackagesInstalled(string js)
    {
        var missing = Packages.Where(p => !File.Exists(Path.Combine(js, "node_modules", p, "package.json"))).ToList();
        if (missing.Count > 0)
        {
            Assert.Fail($"The npm packages for the official-client tests are not installed ({string.Join(", ", missing)} missing " +
                $"under {Path.Combine(js, "node_modules")}). Run ./eng/bootstrap.sh --tests from the repository root.");
        }
    }

    private static string FindJsDirectory()
    {
        var relative = Path.Combine("tests", "Gateway.FunctionalTests", "js");
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relative);
            if (File.Exists(Path.Combine(candidate, "package.json")))
            {
                return candidate;
            }
        }
        Assert.Fail($"No {relative}/package.json in any folder above {AppContext.BaseDirectory}.");
        return "";
    }
}
