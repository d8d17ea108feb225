using System.IO.Pipelines;
using System.Text;
using Gateway.Sse;
using static Gateway.Tests.Sse.SseTestHelpers;

namespace Gateway.Tests.Sse;

public sealed class SseReaderTests
{
    /// <summary>Input stream, the events it must yield, and whether its end truncates an event.</summary>
    public static TheoryData<string, string[], bool> Cases => new()
    {
        // Basic data and the optional single space after the colon.
        { "data: hello\n\n", ["data=hello"], false },
        { "data:hello\n\n", ["data=hello"], false },
        { "data:  two spaces\n\n", ["data= two spaces"], false },
        { "data:\tTab\n\n", ["data=\tTab"], false },
        { "data: a:b: c\n\n", ["data=a:b: c"], false },
        // Multi-line data is joined with LF; an empty data line keeps its place.
        { "data: a\ndata: b\n\n", ["data=a\nb"], false },
        { "data: a\ndata\ndata: c\n\n", ["data=a\n\nc"], false },
        { "data\n\n", ["data="], false },
        { "data:\n\n", ["data="], false },
        { "data\ndata\n\n", ["data=\n"], false },
        // Line endings: LF, CRLF, CR and a mix of them.
        { "data: a\r\ndata: b\r\n\r\n", ["data=a\nb"], false },
        { "data: a\rdata: b\r\r", ["data=a\nb"], false },
        { "data: a\r\ndata: b\rdata: c\n\r\n", ["data=a\nb\nc"], false },
        { "data: 1\r\rdata: 2\n\ndata: 3\r\n\r\n", ["data=1", "data=2", "data=3"], false },
        // Comments are ignored, anywhere.
        { ": hello\ndata: x\n: between\ndata: y\n\n", ["data=x\ny"], false },
        { ":\n\n: only a comment\n\n", [], false },
        // event: sets the type for one event only; an empty type is the default.
        { "event: add\ndata: 1\n\ndata: 2\n\n", ["event=add;data=1", "data=2"], false },
        { "event:\ndata: x\n\n", ["data=x"], false },
        { "event: a\nevent: b\ndata: x\n\n", ["event=b;data=x"], false },
        // id: is ignored when it contains NUL; an empty id is kept.
        { "id: 7\ndata: x\n\n", ["id=7;data=x"], false },
        { "id: a\0b\ndata: x\n\n", ["data=x"], false },
        { "id\ndata: x\n\n", ["id=;data=x"], false },
        // retry: digits only.
        { "retry: 1500\ndata: x\n\n", ["retry=1500;data=x"], false },
        { "retry: 15x\ndata: x\n\n", ["data=x"], false },
        { "retry: -1\ndata: x\n\n", ["data=x"], false },
        { "retry: +1\ndata: x\n\n", ["data=x"], false },
        { "retry:\ndata: x\n\n", ["data=x"], false },
        { "retry: 99999999999\ndata: x\n\n", ["data=x"], false },
        // Unknown and wrongly spelled fields are ignored; names are case-sensitive.
        { "foo: bar\ndata: x\n\n", ["data=x"], false },
        { "Data: x\n\n", [], false },
        { "data : x\n\n", [], false },
        // A block without data is not dispatched, and its type does not leak into the next event.
        { "event: a\nid: 1\n\ndata: x\n\n", ["data=x"], false },
        { "retry: 3000\n\ndata: x\n\n", ["data=x"], false },
        // Extra blank lines dispatch nothing.
        { "\n\n\ndata: x\n\n\n\n", ["data=x"], false },
        { "", [], false },
        // A leading BOM is skipped once; a second one is part of the first field name.
        { "\uFEFFdata: x\n\n", ["data=x"], false },
        { "\uFEFF\uFEFFdata: x\n\ndata: y\n\n", ["data=y"], false },
        { "data: \uFEFFx\n\n", ["data=\uFEFFx"], false },
        // Unicode in every field.
        { "event: ünï\nid: 日本\ndata: héllo 🎉 日本語 \u00A0\n\n", ["event=ünï;id=日本;data=héllo 🎉 日本語 \u00A0"], false },
        // A final event without its blank line is not dispatched, and is reported.
        { "data: x\n\ndata: y\n", ["data=x"], true },
        { "data: x\n\ndata: y", ["data=x"], true },
        { "data: x\n\ndata", ["data=x"], true },
        { "data: x\r\n\r\ndata: y\r\n", ["data=x"], true },
        { "data: x\n\nevent: e\n", ["data=x"], false },
        { "data: x\n\n: trailing comment", ["data=x"], false },
        { "data: x\n\nid: 3", ["data=x"], false },
        // Workers AI and OpenAI shapes.
        {
            "data: {\"response\":\"Hel\"}\n\ndata: {\"response\":\"lo\"}\n\ndata: [DONE]\n\n",
            ["data={\"response\":\"Hel\"}", "data={\"response\":\"lo\"}", "data=[DONE]"],
            false
        },
        {
            "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n",
            ["data={\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}", "data=[DONE]"],
            false
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task ReadEventsAsync_AnySplitOfTheStream_YieldsTheSpecEvents(string input, string[] expected, bool truncated)
    {
        var bytes = Utf8(input);
        foreach ((var name, Func<byte[], Stream> create) in Splits)
        {
            (List<SseEvent> events, SseReader reader) = await ReadAllAsync(create(bytes));

            Assert.True(expected.SequenceEqual(events.Select(Describe)),
                $"split '{name}': expected [{string.Join(" | ", expected)}] got [{string.Join(" | ", events.Select(Describe))}]");
            Assert.True(reader.IsCompleted, name);
            Assert.Equal(truncated, reader.HadIncompleteEvent);
            Assert.Equal(!truncated, reader.EndedCleanly);
        }
    }

    [Theory]
    [InlineData(new[] { 8 })]
    [InlineData(new[] { 8, 17 })]
    [InlineData(new[] { 8, 9, 17, 18, 19 })]
    public async Task ReadEventsAsync_CrlfSplitBetweenReads_CountsAsOneLineBreak(int[] splitOffsets)
    {
        // Offsets 8 and 17 fall between a CR and its LF; if the LF were a line of its own, "a" would dispatch alone.
        var bytes = Utf8("data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n");
        Assert.Equal((byte)'\r', bytes[7]);

        (List<SseEvent> events, _) = await ReadAllAsync(ChunkedStream.SplitAt(bytes, splitOffsets));

        Assert.Equal(["a\nb", "c"], events.Select(e => e.Data));
    }

    [Fact]
    public async Task ReadEventsAsync_MultiByteCharactersSplitAcrossReads_DecodeCorrectly()
    {
        var text = "é日🎉\U0010FFFF";
        var bytes = Utf8($"event: {text}\nid: {text}\ndata: {text}\n\n");
        for (var split = 1; split < bytes.Length; split++)
        {
            (List<SseEvent> events, _) = await ReadAllAsync(ChunkedStream.SplitAt(bytes, split));

            SseEvent sseEvent = Assert.Single(events);
            Assert.Equal(new SseEvent(text, text, text), sseEvent);
        }
    }

    [Fact]
    public async Task ReadEventsAsync_InvalidUtf8_DecodesAsReplacementCharacter()
    {
        byte[] bytes = [.. "data: a"u8, 0xFF, 0xC3, (byte)'\n', .. "data: b"u8, 0xE6, 0x97, (byte)'\n', (byte)'\n'];

        (List<SseEvent> events, _) = await ReadAllAsync(ChunkedStream.Fixed(bytes, 1));

        Assert.Equal("a\uFFFD\uFFFD\nb\uFFFD", Assert.Single(events).Data);
    }

    [Fact]
    public async Task ReadEventsAsync_PartialBomAtEndOfStream_IsNotSkipped()
    {
        (List<SseEvent> events, SseReader reader) = await ReadAllAsync(new MemoryStream([0xEF, 0xBB]));

        Assert.Empty(events);
        Assert.True(reader.EndedCleanly);
    }

    [Fact]
    public async Task LastEventId_PersistsAcrossEvents_WhileEventIdIsPerBlock()
    {
        await using var reader = new SseReader(new MemoryStream(Utf8("id: 1\ndata: a\n\ndata: b\n\nid: 2\n\nretry: 250\n\n")));
        await using IAsyncEnumerator<SseEvent> events = reader.ReadEventsAsync().GetAsyncEnumerator();

        Assert.True(await events.MoveNextAsync());
        Assert.Equal(new SseEvent("a", id: "1"), events.Current);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(new SseEvent("b"), events.Current);
        Assert.Equal("1", reader.LastEventId);
        Assert.Null(reader.ReconnectionTime);
        Assert.False(await events.MoveNextAsync());
        Assert.Equal("2", reader.LastEventId);
        Assert.Equal(250, reader.ReconnectionTime);
    }

    [Fact]
    public async Task ReadAsync_AfterEndOfStream_KeepsReturningNull()
    {
        await using var reader = new SseReader(new MemoryStream(Utf8("data: x\n\n")));

        Assert.Equal("x", (await reader.ReadAsync())?.Data);
        Assert.Null(await reader.ReadAsync());
        Assert.Null(await reader.ReadAsync());
        Assert.True(reader.EndedCleanly);
    }

    [Fact]
    public async Task IsDone_OnTheDoneMarker_IsTrue()
    {
        (List<SseEvent> events, _) = await ReadAllAsync(new MemoryStream(Utf8("data: [DONE]\n\ndata: [DONE] \n\n")));

        Assert.Equal([true, false], events.Select(e => e.IsDone));
    }

    [Theory]
    [InlineData("data: 0123456789012345678901234567890123456789012345678901234567890123\n\n")]
    [InlineData("data: 0123456789\ndata: 0123456789\ndata: 0123456789\ndata: 0123456789\ndata: 0123456789\n\n")]
    [InlineData("event: 01234567890123456789012345678901234567890123456789\ndata: 0123456789\n\n")]
    [InlineData("data: 0123456789012345678901234567890123456789012345678901234567890123")]
    public async Task ReadEventsAsync_EventOverMaxSize_ThrowsSseFormatException(string input)
    {
        foreach ((var name, Func<byte[], Stream> create) in Splits)
        {
            SseFormatException error = await Assert.ThrowsAsync<SseFormatException>(() => ReadAllAsync(create(Utf8(input)), maxEventSize: 64));
            Assert.Contains("64", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ReadEventsAsync_ManyEventsEachUnderMaxSize_AreAllRead()
    {
        var input = string.Concat(Enumerable.Repeat(": a comment line that is not counted\ndata: 0123456789012345678901234567890123456789\n\n", 1000));

        (List<SseEvent> events, _) = await ReadAllAsync(ChunkedStream.Fixed(Utf8(input), 3), maxEventSize: 64);

        Assert.Equal(1000, events.Count);
    }

    [Fact]
    public async Task ReadEventsAsync_EndlessLineFromHostileUpstream_ThrowsBeforeBufferingMuchMore()
    {
        var stream = EndlessStream.Repeating((byte)'x');

        await Assert.ThrowsAsync<SseFormatException>(() => ReadAllAsync(stream, maxEventSize: 1024 * 1024));

        Assert.InRange(stream.BytesRead, 1024 * 1024, 2 * 1024 * 1024);
    }

    [Fact]
    public async Task ReadEventsAsync_TokenCancelledWhileUpstreamStalls_ThrowsOperationCanceled()
    {
        await using var reader = new SseReader(EndlessStream.Stalled());
        using var cts = new CancellationTokenSource();
        await using IAsyncEnumerator<SseEvent> events = reader.ReadEventsAsync(cts.Token).GetAsyncEnumerator();

        Task<bool> next = events.MoveNextAsync().AsTask();
        Assert.False(next.IsCompleted);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next);
    }

    [Fact]
    public async Task ReadEventsAsync_WithCancellationOnStalledUpstream_ThrowsOperationCanceled()
    {
        await using var reader = new SseReader(new ConcatStream(Utf8("data: first\n\n"), EndlessStream.Stalled()));
        using var cts = new CancellationTokenSource();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (SseEvent sseEvent in reader.ReadEventsAsync().WithCancellation(cts.Token))
            {
                Assert.Equal("first", sseEvent.Data);
                await cts.CancelAsync();
            }
        });
    }

    [Fact]
    public async Task ReadAsync_AlreadyCancelledToken_Throws()
    {
        await using var reader = new SseReader(new MemoryStream(Utf8("data: x\n\n")));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader.ReadAsync(new CancellationToken(canceled: true)));
    }

    [Fact]
    public async Task ReadAsync_FromPipeReader_YieldsEachEventBeforeTheNextArrives()
    {
        var pipe = new Pipe();
        await using var reader = new SseReader(pipe.Reader);

        ValueTask<SseEvent?> first = reader.ReadAsync();
        await pipe.Writer.WriteAsync(Utf8("data: one\n"));
        Assert.False(first.IsCompleted);
        await pipe.Writer.WriteAsync(Utf8("\ndata: tw"));
        Assert.Equal("one", (await first)?.Data);

        ValueTask<SseEvent?> second = reader.ReadAsync();
        Assert.False(second.IsCompleted);
        await pipe.Writer.WriteAsync(Utf8("o\n\n"));
        Assert.Equal("two", (await second)?.Data);

        await pipe.Writer.CompleteAsync();
        Assert.Null(await reader.ReadAsync());
        Assert.True(reader.EndedCleanly);
    }

    [Fact]
    public void Constructor_NonPositiveMaxEventSize_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SseReader(new MemoryStream(), maxEventSize: 0));
    }

    [Fact]
    public async Task DisposeAsync_OwnedStream_IsClosedUnlessLeftOpen()
    {
        var closed = new MemoryStream();
        var open = new MemoryStream();

        await new SseReader(closed).DisposeAsync();
        await new SseReader(open, leaveOpen: true).DisposeAsync();

        Assert.False(closed.CanRead);
        Assert.True(open.CanRead);
    }
}
