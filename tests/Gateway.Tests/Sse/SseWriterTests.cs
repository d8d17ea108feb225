using System.IO.Pipelines;
using System.Text;
using Gateway.Sse;

namespace Gateway.Tests.Sse;

public sealed class SseWriterTests
{
    [Theory]
    [InlineData("hello", "data: hello\n\n")]
    [InlineData("", "data: \n\n")]
    [InlineData(" leading space", "data:  leading space\n\n")]
    [InlineData("a\nb", "data: a\ndata: b\n\n")]
    [InlineData("a\r\nb\rc", "data: a\ndata: b\ndata: c\n\n")]
    [InlineData("a\n", "data: a\ndata: \n\n")]
    [InlineData("\n", "data: \ndata: \n\n")]
    [InlineData("日本 🎉", "data: 日本 🎉\n\n")]
    public async Task WriteDataAsync_Text_WritesOneDataLinePerLine(string data, string expected)
    {
        Assert.Equal(expected, await WriteAsync(writer => writer.WriteDataAsync(data)));
    }

    [Theory]
    [InlineData("{\"response\":\"hi\"}", "data: {\"response\":\"hi\"}\n\n")]
    [InlineData("{\"a\":1}\n{\"b\":2}", "data: {\"a\":1}\ndata: {\"b\":2}\n\n")]
    [InlineData("x\r\ny\r", "data: x\ndata: y\ndata: \n\n")]
    [InlineData("", "data: \n\n")]
    public async Task WriteDataAsync_Utf8Bytes_WritesThemAsIsSplittingLineBreaks(string json, string expected)
    {
        ReadOnlyMemory<byte> utf8 = Encoding.UTF8.GetBytes(json);

        Assert.Equal(expected, await WriteAsync(writer => writer.WriteDataAsync(utf8)));
    }

    [Fact]
    public async Task WriteEventAsync_AllFields_WritesEventIdRetryThenData()
    {
        var written = await WriteAsync(writer => writer.WriteEventAsync(new SseEvent("x\ny", "delta", "42", 1500)));

        Assert.Equal("event: delta\nid: 42\nretry: 1500\ndata: x\ndata: y\n\n", written);
    }

    [Fact]
    public async Task WriteEventAsync_DefaultEvent_WritesEmptyData()
    {
        Assert.Equal("data: \n\n", await WriteAsync(writer => writer.WriteEventAsync(default)));
    }

    [Fact]
    public async Task WriteCommentAsync_MultiLineComment_WritesCommentLinesAndBlankLine()
    {
        Assert.Equal(": keep\n: alive\n\n", await WriteAsync(writer => writer.WriteCommentAsync("keep\nalive")));
    }

    [Fact]
    public async Task WriteDoneAsync_WritesTheDoneMarker()
    {
        Assert.Equal("data: [DONE]\n\n", await WriteAsync(writer => writer.WriteDoneAsync()));
    }

    [Theory]
    [InlineData("bad\ntype", null, null)]
    [InlineData("bad\rtype", null, null)]
    [InlineData(null, "bad\nid", null)]
    [InlineData(null, "bad\0id", null)]
    [InlineData(null, null, -1)]
    public async Task WriteEventAsync_FieldTheWireCannotCarry_ThrowsArgumentException(string? eventType, string? id, int? retry)
    {
        var sseEvent = new SseEvent("x", eventType, id, retry);

        await Assert.ThrowsAsync<ArgumentException>(() => WriteAsync(writer => writer.WriteEventAsync(sseEvent)));
    }

    [Fact]
    public async Task WriteDataAsync_EachEvent_IsFlushedToTheStreamImmediately()
    {
        var stream = new MemoryStream();
        await using var writer = new SseWriter(stream, leaveOpen: true);

        await writer.WriteDataAsync("one");
        Assert.Equal("data: one\n\n", Encoding.UTF8.GetString(stream.ToArray()));
        await writer.WriteDataAsync("two"u8.ToArray());
        Assert.Equal("data: one\n\ndata: two\n\n", Encoding.UTF8.GetString(stream.ToArray()));
    }

    [Fact]
    public async Task WriteDataAsync_EachEvent_IsFlushedToThePipeImmediately()
    {
        var pipe = new Pipe();
        var writer = new SseWriter(pipe.Writer);

        await writer.WriteDataAsync("one");

        Assert.True(pipe.Reader.TryRead(out ReadResult result));
        Assert.Equal("data: one\n\n", Encoding.UTF8.GetString(result.Buffer));
    }

    [Fact]
    public async Task WriteDataAsync_CancelledToken_Throws()
    {
        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => WriteAsync(writer => writer.WriteDataAsync("x", new CancellationToken(canceled: true))));
    }

    [Fact]
    public async Task DisposeAsync_OwnedStream_IsClosedUnlessLeftOpen()
    {
        var closed = new MemoryStream();
        var open = new MemoryStream();

        await new SseWriter(closed).DisposeAsync();
        await new SseWriter(open, leaveOpen: true).DisposeAsync();

        Assert.False(closed.CanWrite);
        Assert.True(open.CanWrite);
    }

    private static async Task<string> WriteAsync(Func<SseWriter, ValueTask> write)
    {
        var stream = new MemoryStream();
        await using (var writer = new SseWriter(stream, leaveOpen: true))
        {
            await write(writer);
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
