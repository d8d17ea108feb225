using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Gateway.FunctionalTests.Faults;

/// <summary>A raw HTTP/1.1 client over a socket, for uploads no HttpClient would send: a body dripped a few bytes at a
/// time while the response is awaited.</summary>
public static class RawHttpExchange
{
    /// <summary>Sends <paramref name="head"/>, then <paramref name="bytesPerWrite"/> bytes of <paramref name="body"/>
    /// every <paramref name="pause"/> until the response is complete or the body is sent; returns the status and the
    /// response body. Fails if no complete response arrives within <paramref name="clientTimeout"/>.</summary>
    public static async Task<(int Status, string Body)> DripUploadAsync(
        Uri address, string head, byte[] body, int bytesPerWrite, TimeSpan pause, TimeSpan clientTimeout)
    {
        using var timeout = new CancellationTokenSource(clientTimeout);
        using var client = new TcpClient();
        await client.ConnectAsync(address.Host, address.Port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), timeout.Token);
        using var stopDripping = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        var drip = DripAsync(stream, body, bytesPerWrite, pause, stopDripping.Token);
        var received = new List<byte>();
        try
        {
            var buffer = new byte[16 * 1024];
            while (!IsComplete(received))
            {
                var read = await stream.ReadAsync(buffer, timeout.Token);
                if (read == 0)
                {
                    break;
                }
                received.AddRange(buffer.AsSpan(0, read));
            }
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"no complete response within {clientTimeout.TotalSeconds:0} s; got {received.Count} bytes");
        }
        finally
        {
            await stopDripping.CancelAsync();
            await drip;
        }
        var text = Encoding.UTF8.GetString([.. received]);
        Assert.StartsWith("HTTP/1.1 ", text, StringComparison.Ordinal);
        var bodyStart = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        return (int.Parse(text.AsSpan(9, 3), CultureInfo.InvariantCulture), text[bodyStart..]);
    }

    private static async Task DripAsync(NetworkStream stream, byte[] body, int bytesPerWrite, TimeSpan pause, CancellationToken cancellationToken)
    {
        try
        {
            for (var i = 0; i < body.Length; i += bytesPerWrite)
            {
                await stream.WriteAsync(body.AsMemory(i, Math.Min(bytesPerWrite, body.Length - i)), cancellationToken);
                await Task.Delay(pause, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The response came (or the server closed the connection): stop sending.
        }
    }

    /// <summary>Whether the bytes hold a status line, headers and the whole Content-Length body (without a
    /// Content-Length, chunked or close-delimited, the reader goes on until the server closes).</summary>
    public static bool IsComplete(List<byte> received)
    {
        var text = Encoding.ASCII.GetString([.. received]);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (end < 0)
        {
            return false;
        }
        foreach (var line in text[..end].Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return received.Count - (end + 4) >= int.Parse(line.AsSpan(15).Trim(), CultureInfo.InvariantCulture);
            }
        }
        return false;
    }
}
