using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Bench.LoadGen;

/// <summary>What one stream measured, in ms after the request was sent.</summary>
/// <param name="Ok">HTTP 200, every piece received in order, and <c>[DONE]</c> last.</param>
/// <param name="Error">Why not, when not.</param>
/// <param name="FirstTextMs">The first event with non-empty text (not the headers, not a role-only chunk).</param>
/// <param name="TotalMs">The <c>[DONE]</c> event.</param>
/// <param name="LagP50Ms">Median over the pieces of how late each arrived against the upstream's schedule (piece i is
/// sent at first-token + i intervals after the upstream got the request): what a zero-cost relay would show as ~0.</param>
/// <param name="LagMaxMs">The latest piece's lag.</param>
internal sealed record StreamSample(bool Ok, string? Error, double FirstTextMs, double TotalMs, double LagP50Ms, double LagMaxMs);

/// <summary>Sends one streamed request and reads it as the client would: SSE events parsed as they arrive.</summary>
internal static class StreamClient
{
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();

    public static HttpClient CreateClient(int connections) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        MaxConnectionsPerServer = connections,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    })
    {
        Timeout = TimeSpan.FromMinutes(5),
    };

    /// <summary>Sends the request and reads the stream to its end.</summary>
    /// <param name="client">The client.</param>
    /// <param name="url">The gateway endpoint.</param>
    /// <param name="body">The JSON request.</param>
    /// <param name="workersAi">Workers AI events (<c>response</c>) rather than OpenAI chunks (<c>choices[0].delta.content</c>).</param>
    /// <param name="expected">The pieces the upstream sends, in order.</param>
    /// <param name="firstToken">When the upstream sends the first piece.</param>
    /// <param name="interval">The upstream's time between pieces.</param>
    public static async Task<StreamSample> RunAsync(
        HttpClient client, Uri url, byte[] body, bool workersAi, IReadOnlyList<string> expected, TimeSpan firstToken, TimeSpan interval)
    {
        var arrivals = new List<long>(expected.Count);
        var text = new StringBuilder();
        var start = Stopwatch.GetTimestamp();
        long done = 0;
        string? error = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            await using var stream = await response.Content.ReadAsStreamAsync();
            if (response.StatusCode != HttpStatusCode.OK)
            {
                using var reader = new StreamReader(stream);
                var content = await reader.ReadToEndAsync();
                return Failed($"HTTP {(int)response.StatusCode}: {content[..Math.Min(content.Length, 300)]}");
            }
            var buffer = new byte[64 * 1024];
            var length = 0;
            int read;
            while (done == 0 && (read = await stream.ReadAsync(buffer.AsMemory(length))) > 0)
            {
                var now = Stopwatch.GetTimestamp();
                length += read;
                var consumed = 0;
                int end;
                while ((end = buffer.AsSpan(consumed, length - consumed).IndexOf(EventEnd)) >= 0)
                {
                    var data = Data(buffer.AsSpan(consumed, end));
                    consumed += end + EventEnd.Length;
                    if (data.SequenceEqual("[DONE]"u8))
                    {
                        done = now;
                        break;
                    }
                    if (data.Length == 0)
                    {
                        continue;
                    }
                    var (piece, failure) = Parse(data, workersAi);
                    if (failure is not null)
                    {
                        return Failed("error event: " + failure);
                    }
                    if (!string.IsNullOrEmpty(piece))
                    {
                        arrivals.Add(now);
                        text.Append(piece);
                    }
                }
                buffer.AsSpan(consumed, length - consumed).CopyTo(buffer);
                length -= consumed;
                if (length == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException or JsonException)
        {
            error = ex.GetType().Name + ": " + ex.Message;
        }
        if (error is null && done == 0)
        {
            error = "the stream ended without data: [DONE]";
        }
        if (error is null && (arrivals.Count != expected.Count || text.ToString() != string.Concat(expected)))
        {
            error = $"received {arrivals.Count} text events ({text.Length} chars), expected {expected.Count} ({string.Concat(expected).Length} chars)";
        }
        if (error is not null)
        {
            return Failed(error);
        }
        var lags = arrivals.Select((t, i) => Ms(start, t) - (firstToken + (i * interval)).TotalMilliseconds).Order().ToArray();
        return new StreamSample(true, null, Ms(start, arrivals[0]), Ms(start, done), Stats.Percentile(lags, 0.5), lags[^1]);

        StreamSample Failed(string why) => new(false, why, double.NaN, double.NaN, double.NaN, double.NaN);
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;

    /// <summary>The data of one event (its <c>data:</c> lines joined), or empty.</summary>
    private static ReadOnlySpan<byte> Data(ReadOnlySpan<byte> sse)
    {
        // The gateway writes one data line per event; comments and other fields carry nothing here.
        foreach (var range in sse.Split((byte)'\n'))
        {
            var line = sse[range];
            if (line.StartsWith("data:"u8))
            {
                line = line[5..];
                return line.Length > 0 && line[0] == (byte)' ' ? line[1..] : line;
            }
        }
        return [];
    }

    private static (string? Text, string? Error) Parse(ReadOnlySpan<byte> data, bool workersAi)
    {
        var reader = new Utf8JsonReader(data);
        using var doc = JsonDocument.ParseValue(ref reader);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return (null, "not an object");
        }
        if (root.TryGetProperty("error", out _) || root.TryGetProperty("errors", out _))
        {
            return (null, Encoding.UTF8.GetString(data[..Math.Min(data.Length, 300)]));
        }
        if (workersAi)
        {
            return (root.TryGetProperty("response", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null, null);
        }
        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            var choice = choices[0];
            if (choice.TryGetProperty("finish_reason", out var finish) && finish.ValueKind == JsonValueKind.String && finish.GetString() == "content_filter")
            {
                return (null, "finish_reason content_filter");
            }
            if (choice.TryGetProperty("delta", out var delta) && delta.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
            {
                return (content.GetString(), null);
            }
        }
        return (null, null);
    }
}

/// <summary>Nearest-rank percentiles.</summary>
internal static class Stats
{
    /// <summary>The <paramref name="q"/> quantile of sorted values; NaN when empty.</summary>
    public static double Percentile(IReadOnlyList<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>The <paramref name="q"/> quantile of unsorted values.</summary>
    public static double Quantile(IEnumerable<double> values, double q) => Percentile([.. values.Order()], q);
}
