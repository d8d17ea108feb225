using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

using Gateway.FunctionalTests.Faults;

namespace Gateway.FunctionalTests.BadInput;

/// <summary>Malformed HTTP written straight to a socket: broken chunking, bad or lying Content-Length, junk framing.
/// None may produce a 5xx or leave the client waiting past 10 s.</summary>
public sealed partial class BadInputTests
{
    /// <summary>A status the gateway may answer with, or <see cref="Closed"/>: the connection closed with no response
    /// (what Kestrel does when the client half-closes mid-request).</summary>
    public const int Closed = 0;

    private const string Model = BadInputCase.Llama2;

    private static readonly Dictionary<string, RawCase> RawTable = RawCases().ToDictionary(r => r.Name, StringComparer.Ordinal);

    public static TheoryData<string> RawSocketRows => Names(RawTable);

    [Theory]
    [MemberData(nameof(RawSocketRows))]
    public async Task MalformedHttp_NeverGets5xx_AndNeverHangs(string row)
    {
        var before = fixture.Upstream.Received.Count;
        await AssertRawAsync(RawTable[row]);
        if (!RawTable[row].Allowed.Contains(200))
        {
            Assert.Equal(before, fixture.Upstream.Received.Count);
        }
    }

    /// <summary>One raw request and the statuses it may get; <c>Envelope</c> is set when the request reaches the
    /// gateway's handler, which must then answer in its envelope.</summary>
    public sealed record RawCase(string Name, string Request, int[] Allowed, bool HalfClose = false, BadInputCase? Envelope = null);

    private static IEnumerable<RawCase> RawCases()
    {
        const string post = $"POST /ai/run/{Model} HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n";
        const string chunked = post + "Transfer-Encoding: chunked\r\n\r\n";
        const string body = """{"prompt":"hi"}""";
        static BadInputCase Envelope(Fault fault, string contains, bool openAi = false) =>
            new("raw", openAi ? Surface.OpenAiChat : Surface.WorkersAiShort, fault, contains);

        yield return new("invalid chunk size", chunked + "zz\r\n{}\r\n0\r\n\r\n", [400], Envelope: Envelope(Fault.MalformedJson, "The request body could not be read"));
        yield return new("chunk longer than its size", chunked + $"5\r\n{body}\r\n0\r\n\r\n", [400], Envelope: Envelope(Fault.MalformedJson, "The request body could not be read"));
        yield return new("chunk data without CRLF", chunked + "2\r\n{}XX0\r\n\r\n", [400], Envelope: Envelope(Fault.MalformedJson, "The request body could not be read"));
        yield return new("invalid chunk size on OpenAI", "POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
            [400], Envelope: Envelope(Fault.MalformedJson, "The request body could not be read", openAi: true));
        yield return new("chunked body stalls mid-chunk", chunked + "f\r\n{\"pro", [408], Envelope: Envelope(Fault.Timeout, "The request body did not arrive in time"));
        yield return new("Content-Length larger than the body, client stalls", post + $"Content-Length: 100\r\n\r\n{body}", [408], Envelope: Envelope(Fault.Timeout, "The request body did not arrive in time"));
        yield return new("chunked body cut short by a half-close", chunked + "f\r\n{\"pro", [Closed, 400], HalfClose: true);
        yield return new("Content-Length larger than the body, then half-close", post + $"Content-Length: 100\r\n\r\n{body}", [Closed, 400], HalfClose: true);
        yield return new("Content-Length shorter than the body", post + $"Content-Length: 5\r\n\r\n{body}", [400], Envelope: Envelope(Fault.MalformedJson, "Request body is not valid JSON"));
        yield return new("Content-Length far over the limit, body never sent", post + "Content-Length: 100000000\r\n\r\n{", [413], Envelope: Envelope(Fault.TooLarge, "Request is too large: the body limit is 4194304 bytes"));
        yield return new("Content-Length is not a number", post + $"Content-Length: abc\r\n\r\n{body}", [400]);
        yield return new("Content-Length is negative", post + $"Content-Length: -5\r\n\r\n{body}", [400]);
        yield return new("two different Content-Lengths", post + $"Content-Length: 15\r\nContent-Length: 16\r\n\r\n{body}", [400]);
        yield return new("Content-Length overflows", post + $"Content-Length: 99999999999999999999999\r\n\r\n{body}", [400, 413]);
        yield return new("Content-Length and chunked together", post + $"Content-Length: 15\r\nTransfer-Encoding: chunked\r\n\r\nf\r\n{body}\r\n0\r\n\r\n", [200, 400]);
        yield return new("Transfer-Encoding gzip without chunked", post + $"Transfer-Encoding: gzip\r\n\r\n{body}", [400]);
        yield return new("garbage request line", "GARBAGE\r\n\r\n", [400]);
        yield return new("header line without a colon", $"POST /ai/run/{Model} HTTP/1.1\r\nHost: gateway\r\nthis is not a header\r\n\r\n", [400]);
        yield return new("no Host header", $"POST /ai/run/{Model} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{body}", [400]);
        yield return new("headers over 32 KiB", $"POST /ai/run/{Model} HTTP/1.1\r\nHost: gateway\r\nX-Big: {new string('a', 40 * 1024)}\r\n\r\n", [431]);
        yield return new("unsupported HTTP version", $"POST /ai/run/{Model} HTTP/7.0\r\nHost: gateway\r\n\r\n", [400, 505]);
    }

    /// <summary>Sends a raw row and checks its answer; returns the status (<see cref="Closed"/> for none).</summary>
    private async Task<int> AssertRawAsync(RawCase row)
    {
        var (status, text) = await ExchangeAsync(fixture.Gateway.BaseAddress, row.Request, row.HalfClose);
        Assert.True(row.Allowed.Contains(status), $"raw '{row.Name}': expected one of [{string.Join(", ", row.Allowed)}], got {status}: {text}");
        if (row.Envelope is { } envelope)
        {
            var bodyStart = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
            using var document = JsonDocument.Parse(text[bodyStart..]);
            var root = document.RootElement;
            var message = envelope.WorkersAiEnvelope
                ? root.GetProperty("errors")[0].GetProperty("message").GetString()
                : root.GetProperty("error").GetProperty("message").GetString();
            if (envelope.WorkersAiEnvelope)
            {
                Assert.Equal(envelope.WorkersAiCode, root.GetProperty("errors")[0].GetProperty("code").GetInt32());
            }
            else
            {
                Assert.Equal(envelope.OpenAiCode, root.GetProperty("error").GetProperty("code").GetString());
            }
            Assert.Contains(envelope.MessageContains, message, StringComparison.Ordinal);
        }
        return status;
    }

    /// <summary>Writes the request, then reads one response (headers and its Content-Length body) within the client
    /// timeout. Returns <see cref="Closed"/> when the connection closed before any byte came back.</summary>
    private static async Task<(int Status, string Text)> ExchangeAsync(Uri address, string request, bool halfClose)
    {
        using var timeout = new CancellationTokenSource(BadInputFixture.ClientTimeout);
        var clock = Stopwatch.StartNew();
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port, timeout.Token);
        var stream = client.GetStream();
        var received = new List<byte>();
        try
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), timeout.Token);
            if (halfClose)
            {
                client.Client.Shutdown(SocketShutdown.Send);
            }
            var buffer = new byte[16 * 1024];
            while (!RawHttpExchange.IsComplete(received))
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0)
                {
                    break;
                }
                received.AddRange(buffer.AsSpan(0, read));
            }
        }
        catch (IOException) when (received.Count == 0 || RawHttpExchange.IsComplete(received))
        {
            // Reset after (or instead of) the response: the server dropped the connection, which is allowed.
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"no complete response within {BadInputFixture.ClientTimeout.TotalSeconds:0} s (hang); got {received.Count} bytes after {clock.Elapsed.TotalSeconds:0.0} s");
        }
        if (received.Count == 0)
        {
            return (Closed, "");
        }
        var text = Encoding.UTF8.GetString([.. received]);
        Assert.StartsWith("HTTP/1.1 ", text, StringComparison.Ordinal);
        return (int.Parse(text.AsSpan(9, 3), CultureInfo.InvariantCulture), text);
    }
}
