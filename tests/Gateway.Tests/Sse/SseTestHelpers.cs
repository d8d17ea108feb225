using System.Text;
using Gateway.Sse;

namespace Gateway.Tests.Sse;

internal static class SseTestHelpers
{
    /// <summary>The read splits every parsing case runs under: whole, fixed sizes and seeded random splits.</summary>
    public static readonly (string Name, Func<byte[], Stream> Create)[] Splits =
    [
        ("whole", data => ChunkedStream.Fixed(data, int.MaxValue)),
        ("1 byte", data => ChunkedStream.Fixed(data, 1)),
        ("2 bytes", data => ChunkedStream.Fixed(data, 2)),
        ("3 bytes", data => ChunkedStream.Fixed(data, 3)),
        ("7 bytes", data => ChunkedStream.Fixed(data, 7)),
        ("random seed 1", data => ChunkedStream.Random(data, seed: 1)),
        ("random seed 2", data => ChunkedStream.Random(data, seed: 2)),
        ("random seed 3", data => ChunkedStream.Random(data, seed: 3, maxChunk: 5)),
    ];

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static async Task<(List<SseEvent> Events, SseReader Reader)> ReadAllAsync(Stream stream, int maxEventSize = SseReader.DefaultMaxEventSize)
    {
        var reader = new SseReader(stream, maxEventSize);
        var events = new List<SseEvent>();
        await foreach (SseEvent sseEvent in reader.ReadEventsAsync())
        {
            events.Add(sseEvent);
        }

        await reader.DisposeAsync();
        return (events, reader);
    }

    /// <summary>A compact, diff-friendly form of an event: the set fields, then the data.</summary>
    public static string Describe(SseEvent sseEvent)
    {
        var text = new StringBuilder();
        if (sseEvent.EventType is not null)
        {
            text.Append("event=").Append(sseEvent.EventType).Append(';');
        }

        if (sseEvent.Id is not null)
        {
            text.Append("id=").Append(sseEvent.Id).Append(';');
        }

        if (sseEvent.Retry is not null)
        {
            text.Append("retry=").Append(sseEvent.Retry.Value).Append(';');
        }

        return text.Append("data=").Append(sseEvent.Data).ToString();
    }
}
