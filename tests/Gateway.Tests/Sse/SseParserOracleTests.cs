using System.Net.ServerSentEvents;
using System.Text;
using Gateway.Sse;
using static Gateway.Tests.Sse.SseTestHelpers;

namespace Gateway.Tests.Sse;

/// <summary>Differential tests against an independent SSE parser, the one in System.Net.ServerSentEvents: on the same
/// well-formed byte streams both must dispatch the same events (type and data) and end with the same last event id and
/// reconnection time. The gateway keeps its own reader for what the library's lacks (a per-event size cap, and
/// reporting a truncated last event instead of dropping it silently); the two agree on everything else.</summary>
public sealed class SseParserOracleTests
{
    private static readonly string[] LineEnds = ["\n", "\r\n", "\r"];

    private static readonly string[] Values =
    [
        "", " ", "  two spaces", "x", "{\"response\":\"hi\"}", "[DONE]", "a:b", ": colon", "é日本🎉", "\t tab", "data: inner",
    ];

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public async Task RandomStreams_OurReaderAgreesWithTheLibraryParser(int seed)
    {
        var random = new Random(seed);
        for (var round = 0; round < 40; round++)
        {
            var bytes = Encoding.UTF8.GetBytes(RandomStream(random));
            var expected = await LibraryParseAsync(bytes);
            foreach ((var name, Func<byte[], Stream> create) in Splits)
            {
                (List<SseEvent> events, SseReader reader) = await ReadAllAsync(create(bytes));
                var actual = events.Select(e => (e.EventType ?? SseParser.EventTypeDefault, e.Data)).ToList();

                Assert.True(expected.Events.SequenceEqual(actual),
                    $"seed {seed} round {round} split '{name}': library {Show(expected.Events)} ours {Show(actual)} stream {Encoding.UTF8.GetString(bytes).Replace("\r", "<CR>", StringComparison.Ordinal).Replace("\n", "<LF>", StringComparison.Ordinal)}");
                Assert.Equal(expected.LastEventId, reader.LastEventId);
                Assert.Equal(expected.Retry, reader.ReconnectionTime);
                Assert.True(reader.EndedCleanly, name);
            }
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public async Task OurWriter_IsReadTheSameByTheLibraryParser(int seed)
    {
        var random = new Random(seed);
        var sent = Enumerable.Range(0, 200).Select(_ => new SseEvent(
            string.Join("\n", Enumerable.Range(0, random.Next(1, 4)).Select(_ => Values[random.Next(Values.Length)])),
            random.Next(3) == 0 ? "type" + random.Next(3) : null)).ToList();
        var stream = new MemoryStream();
        await using (var writer = new SseWriter(stream, leaveOpen: true))
        {
            foreach (var sseEvent in sent)
            {
                await writer.WriteEventAsync(sseEvent);
            }
            await writer.WriteDoneAsync();
        }

        var parsed = await LibraryParseAsync(stream.ToArray());

        var expected = sent.Select(e => (e.EventType ?? SseParser.EventTypeDefault, e.Data)).Append((SseParser.EventTypeDefault, "[DONE]"));
        Assert.Equal(expected, parsed.Events);
    }

    /// <summary>Where the two differ: a blank line after an <c>event</c> field but no <c>data</c> dispatches nothing,
    /// and the specification (WHATWG HTML, "dispatch the event", step 2) then resets the event type buffer too. The
    /// library's parser keeps the type for the next event; the gateway's reader follows the specification.</summary>
    [Fact]
    public async Task EventTypeWithoutData_IsResetAtTheBlankLine_AsTheSpecificationSays()
    {
        var bytes = Encoding.UTF8.GetBytes("event: kind0\n\ndata: next\n\n");

        (List<SseEvent> events, _) = await ReadAllAsync(new MemoryStream(bytes));
        var library = await LibraryParseAsync(bytes);

        Assert.Equal([new SseEvent("next")], events);
        Assert.Equal([("kind0", "next")], library.Events);
    }

    private static async Task<(List<(string Type, string Data)> Events, string LastEventId, int? Retry)> LibraryParseAsync(byte[] bytes)
    {
        var parser = SseParser.Create(new MemoryStream(bytes));
        var events = new List<(string, string)>();
        await foreach (var item in parser.EnumerateAsync())
        {
            events.Add((item.EventType, item.Data));
        }
        int? retry = parser.ReconnectionInterval == Timeout.InfiniteTimeSpan ? null : (int)parser.ReconnectionInterval.TotalMilliseconds;
        return (events, parser.LastEventId, retry);
    }

    /// <summary>A stream of events made of data, event, id, retry, comment and unknown-field lines, with every line
    /// ending the specification allows, fields with and without the optional space, and blank-line dispatches; it
    /// always ends with a blank line (a truncated last event is where the two parsers differ on purpose).</summary>
    private static string RandomStream(Random random)
    {
        var text = new StringBuilder();
        if (random.Next(5) == 0)
        {
            text.Append('\uFEFF');
        }
        var events = random.Next(0, 8);
        for (var e = 0; e < events; e++)
        {
            var lines = random.Next(1, 5);
            var (hasType, hasData) = (false, false);
            for (var l = 0; l <= lines; l++)
            {
                var value = Values[random.Next(Values.Length)];
                var separator = random.Next(3) == 0 ? ":" : ": ";
                var kind = random.Next(12);
                if (l == lines)
                {
                    // See EventTypeWithoutData: a typed event always carries data here.
                    if (!hasType || hasData)
                    {
                        break;
                    }
                    kind = 6;
                }
                hasType |= kind == 0;
                hasData |= kind >= 5;
                text.Append(kind switch
                {
                    0 => "event" + separator + "kind" + random.Next(3),
                    1 => "id" + separator + random.Next(100),
                    2 => "retry" + separator + random.Next(5000),
                    3 => ": a comment " + value,
                    4 => "unknown" + separator + value,
                    5 => "data",
                    _ => "data" + separator + value,
                });
                text.Append(LineEnds[random.Next(LineEnds.Length)]);
            }
            text.Append(LineEnds[random.Next(LineEnds.Length)]);
        }
        // A CR then an LF is one line end: a final LF-LF makes sure the last event is dispatched either way.
        return text.Append("\n\n").ToString();
    }

    private static string Show(IEnumerable<(string Type, string Data)> events) =>
        "[" + string.Join(", ", events.Select(e => $"{e.Type}:{e.Data.Replace("\n", "\\n", StringComparison.Ordinal)}")) + "]";
}
