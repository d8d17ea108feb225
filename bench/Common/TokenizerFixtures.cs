using System.Diagnostics;

namespace Bench.Common;

/// <summary>Finds the tokenizer test fixtures (tests/Guard.Tests/js) and runs node there.</summary>
internal static class TokenizerFixtures
{
    /// <summary>The js folder with its npm packages installed.</summary>
    public static string FindJsDirectory()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "tests", "Guard.Tests", "js");
                if (File.Exists(Path.Combine(candidate, "generate-fixtures.mjs")))
                {
                    return Directory.Exists(Path.Combine(candidate, "node_modules"))
                        ? candidate
                        : throw new InvalidOperationException($"{candidate}/node_modules is missing: run ./eng/bootstrap.sh --tests");
                }
            }
        }
        throw new InvalidOperationException("tests/Guard.Tests/js not found; run from the repository");
    }

    /// <summary>Runs node with arguments in a folder and returns its standard output.</summary>
    public static string Node(string workingDirectory, string arguments)
    {
        var start = new ProcessStartInfo("node", arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("node could not be started");
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"node {arguments} exited with {process.ExitCode}");
    }
}
