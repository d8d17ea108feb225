using System.IO.Pipelines;
using System.Text;
using Gateway.Sse;
using static Gateway.Tests.Sse.SseTestHelpers;

namespace Gateway.Tests.Sse;

public sealed class SseRoundTripTests
{
    private static readonly string[] Pieces =
    [
        "a", "b", "z", "0", "9", " ", "  ", ":", ": ", "data: ", "\n", "\r\n", "\r", "{", "}", "\"", "\\", "[DONE]",
        "é", "ü", "日本", "語", "🎉", "👩‍💻", "\U0010FFFF", "\u00A0", "\uFEFF", "\t", "id", "event",
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task WriterThenReader_RandomEvents_RoundTripUnderAnySplit(int seed)
    {
        var random = new Random(seed);
        SseEvent[] sent = [.. Enumerable.Range(0, 300).Select(_ => RandomEvent(random))];
        var stream = new MemoryStream();
        await using (var writer = new SseWriter(stream, leaveOpen: true))
        {
            foreach (SseEvent sseEvent in sent)
            {
                await writer.WriteEventAsync(sseEvent);
                if (random.Next(10) == 0)
                {
                    await writer.WriteCommentAsync(RandomText(random, 3));
                }
            }
        }

        // The reader normalizes CRLF and CR inside data to LF, so that is what must come back.
        SseEvent[] expected = [.. sent.Select(e => e with { Data = e.Data.Replace("\r\n", "\n", StringComparison.Ordinal).Replace('\r', '\n') })];
        foreach ((var name, Func<byte[], Stream> create) in Splits)
        {
            (List<SseEvent> received, SseReader reader) = await ReadAllAsync(create(stream.ToArray()));

            Assert.True(expected.SequenceEqual(received), $"split '{name}'");
            Assert.True(reader.EndedCleanly, name);
        }
    }

    [Fact]
    public async Task WriterThenReader_Utf8JsonFastPath_RoundTrips()
    {
        var stream = new MemoryStream();
        await using (var writer = new SseWriter(stream, leaveOpen: true))
        {
            await writer.WriteDataAsync("{\"response\":\"héllo 🎉\"}"u8.ToArray());
            await writer.WriteDoneAsync();
        }

        (List<SseEvent> received, _) = await ReadAllAsync(ChunkedStream.Fixed(stream.ToArray(), 1));

        Assert.Equal([new SseEvent("{\"response\":\"héllo 🎉\"}"), new SseEvent("[DONE]")], received);
        Assert.True(received[1].IsDone);
    }

    [Fact]
    public async Task ReaderOverPipe_ReceivesFirstEventBeforeWriterWritesSecond()
    {
        var pipe = new Pipe();
        var writer = new SseWriter(pipe.Writer);
        await using var reader = new SseReader(pipe.Reader.AsStream(leaveOpen: true));
        await using IAsyncEnumerator<SseEvent> events = reader.ReadEventsAsync().GetAsyncEnumerator();

        await writer.WriteDataAsync("{\"response\":\"first\"}");
        Assert.True(await events.MoveNextAsync());
        Assert.Equal("{\"response\":\"first\"}", events.Current.Data);

        // Nothing more has been written, so the reader must still be waiting: it did not need the whole body.
        Task<bool> second = events.MoveNextAsync().AsTask();
        Assert.False(second.IsCompleted);

        await writer.WriteDataAsync("{\"response\":\"second\"}");
        Assert.True(await second);
        Assert.Equal("{\"response\":\"second\"}", events.Current.Data);

        await writer.WriteDoneAsync();
        Assert.True(await events.MoveNextAsync());
        Assert.True(events.Current.IsDone);

        await pipe.Writer.CompleteAsync();
        Assert.False(await events.MoveNextAsync());
        Assert.True(reader.EndedCleanly);
    }

    [Fact]
    public async Task ReaderOverPipe_UpstreamCutMidEvent_ReportsIncompleteEvent()
    {
        var pipe = new Pipe();
        await using var reader = new SseReader(pipe.Reader);

        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes("data: {\"response\":\"a\"}\n\ndata: {\"resp"));
        await pipe.Writer.CompleteAsync();

        Assert.Equal("{\"response\":\"a\"}", (await reader.ReadAsync())?.Data);
        Assert.Null(await reader.ReadAsync());
        Assert.True(reader.HadIncompleteEvent);
        Assert.False(reader.EndedCleanly);
    }

    private static SseEvent RandomEvent(Random random) => new(
        RandomText(random, random.Next(0, 12)),
        random.Next(4) == 0 ? "type" + random.Next(3) : null,
        random.Next(4) == 0 ? random.Next(1000).ToString(System.Globalization.CultureInfo.InvariantCulture) : null,
        random.Next(8) == 0 ? random.Next(0, 100_000) : null);

    private static string RandomText(Random random, int pieces)
    {
        var text = new StringBuilder();
        for (var i = 0; i < pieces; i++)
        {
            text.Append(Pieces[random.Next(Pieces.Length)]);
        }

        return text.ToString();
    }
}
