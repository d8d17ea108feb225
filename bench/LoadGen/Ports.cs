using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Bench.LoadGen;

/// <summary>Helpers for bench/run.sh: free ports and readiness.</summary>
internal static class Ports
{
    /// <summary>Prints <paramref name="count"/> distinct free loopback ports (all bound at once, then released).</summary>
    public static int Print(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        try
        {
            listeners.ForEach(l => l.Start());
            Console.WriteLine(string.Join(' ', listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture))));
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
            listeners.ForEach(l => l.Dispose());
        }
        return 0;
    }

    /// <summary>Polls <paramref name="url"/> until it answers 200; 1 when it does not within <paramref name="timeout"/>.</summary>
    public static async Task<int> WaitAsync(Uri url, TimeSpan timeout)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        string last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await client.GetAsync(url);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return 0;
                }
                last = $"HTTP {(int)response.StatusCode}";
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                last = ex.Message;
            }
            await Task.Delay(200);
        }
        await Console.Error.WriteLineAsync($"{url} not ready after {timeout.TotalSeconds:0} s ({last})");
        return 1;
    }
}
