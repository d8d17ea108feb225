using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;

namespace Gateway.Sse;

/// <summary>Writes Server-Sent Events to a pipe or stream, flushing each event as soon as it is written.</summary>
/// <remarks>
/// Values are written as <c>field: value</c> with one space, so a payload that starts with a space survives the
/// reader's single-space strip. Line breaks (LF, CRLF, CR) inside a payload start a new <c>data:</c> line; a reader
/// joins them back with LF. Not thread-safe: one writer per response, one write at a time.
/// </remarks>
public sealed class SseWriter : IAsyncDisposable
{
    private static readonly SearchValues<char> LineBreakChars = SearchValues.Create("\r\n");
    private static readonly SearchValues<byte> LineBreakBytes = SearchValues.Create("\r\n"u8);

    private readonly PipeWriter _writer;
    private readonly bool _ownsWriter;
    private bool _disposed;

    /// <summary>Creates a writer over a pipe, such as ASP.NET Core's <c>HttpResponse.BodyWriter</c>.</summary>
    /// <param name="writer">The destination; the caller keeps ownership and completes it.</param>
    public SseWriter(PipeWriter writer)
        : this(writer, ownsWriter: false)
    {
    }

    /// <summary>Creates a writer over a stream.</summary>
    /// <param name="stream">The destination.</param>
    /// <param name="leaveOpen">Whether disposing the writer leaves <paramref name="stream"/> open.</param>
    public SseWriter(Stream stream, bool leaveOpen = false)
        : this(PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: leaveOpen)), ownsWriter: true)
    {
    }

    private SseWriter(PipeWriter writer, bool ownsWriter)
    {
        ArgumentNullException.ThrowIfNull(writer);
        _writer = writer;
        _ownsWriter = ownsWriter;
    }

    /// <summary>Writes an event with all its fields and flushes it.</summary>
    /// <param name="sseEvent">The event; <see cref="SseEvent.EventType"/> and <see cref="SseEvent.Id"/> may not contain
    /// line breaks, the id no NUL, and <see cref="SseEvent.Retry"/> may not be negative.</param>
    /// <param name="cancellationToken">Cancels the flush.</param>
    /// <exception cref="ArgumentException">A field holds a value the wire format cannot carry.</exception>
    public ValueTask WriteEventAsync(SseEvent sseEvent, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Validate(sseEvent);
        cancellationToken.ThrowIfCancellationRequested();

        if (!string.IsNullOrEmpty(sseEvent.EventType))
        {
            WriteLine("event: "u8, sseEvent.EventType);
        }

        if (sseEvent.Id is not null)
        {
            WriteLine("id: "u8, sseEvent.Id);
        }

        if (sseEvent.Retry is int retry)
        {
            _writer.Write("retry: "u8);
            Span<byte> digits = _writer.GetSpan(11);
            retry.TryFormat(digits, out var written, default, CultureInfo.InvariantCulture);
            _writer.Advance(written);
            _writer.Write("\n"u8);
        }

        WriteLines("data: "u8, sseEvent.Data);
        _writer.Write("\n"u8);
        return FlushAsync(cancellationToken);
    }

    /// <summary>Writes an event of the default type with a text payload and flushes it.</summary>
    /// <param name="data">The payload; each line break in it starts a new <c>data:</c> line.</param>
    /// <param name="cancellationToken">Cancels the flush.</param>
    public ValueTask WriteDataAsync(string data, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(data);
        cancellationToken.ThrowIfCancellationRequested();
        WriteLines("data: "u8, data);
        _writer.Write("\n"u8);
        return FlushAsync(cancellationToken);
    }

    /// <summary>Writes an event of the default type with a pre-encoded UTF-8 payload, such as serialized JSON, and flushes it.</summary>
    /// <param name="utf8Data">The payload bytes, written as they are; each line break in them starts a new <c>data:</c> line.</param>
    /// <param name="cancellationToken">Cancels the flush.</param>
    public ValueTask WriteDataAsync(ReadOnlyMemory<byte> utf8Data, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        ReadOnlySpan<byte> rest = utf8Data.Span;
        while (true)
        {
            _writer.Write("data: "u8);
            var i = rest.IndexOfAny(LineBreakBytes);
            if (i < 0)
            {
                _writer.Write(rest);
                _writer.Write("\n\n"u8);
                break;
            }

            _writer.Write(rest[..i]);
            _writer.Write("\n"u8);
            rest = rest[(rest[i] == (byte)'\r' && i + 1 < rest.Length && rest[i + 1] == (byte)'\n' ? i + 2 : i + 1)..];
        }

        return FlushAsync(cancellationToken);
    }

    /// <summary>Writes a comment, which readers ignore (a keep-alive), and flushes it.</summary>
    /// <param name="comment">The text; each line break in it starts a new comment line.</param>
    /// <param name="cancellationToken">Cancels the flush.</param>
    /// <remarks>The comment is followed by a blank line, which dispatches nothing, for clients that split the stream
    /// on blank lines before parsing it.</remarks>
    public ValueTask WriteCommentAsync(string comment, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(comment);
        cancellationToken.ThrowIfCancellationRequested();
        WriteLines(": "u8, comment);
        _writer.Write("\n"u8);
        return FlushAsync(cancellationToken);
    }

    /// <summary>Writes <c>data: [DONE]</c>, the end marker of Workers AI and OpenAI streams, and flushes it.</summary>
    /// <param name="cancellationToken">Cancels the flush.</param>
    public ValueTask WriteDoneAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        _writer.Write("data: [DONE]\n\n"u8);
        return FlushAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_ownsWriter)
        {
            await _writer.CompleteAsync();
        }
    }

    private static void Validate(SseEvent sseEvent)
    {
        if (sseEvent.EventType is { } eventType && eventType.AsSpan().ContainsAny(LineBreakChars))
        {
            throw new ArgumentException($"The event type '{eventType}' contains a line break, which the SSE format cannot carry.", nameof(sseEvent));
        }

        if (sseEvent.Id is { } id && (id.AsSpan().ContainsAny(LineBreakChars) || id.Contains('\0', StringComparison.Ordinal)))
        {
            throw new ArgumentException("The event id contains a line break or NUL, which the SSE format cannot carry; use a plain token.", nameof(sseEvent));
        }

        if (sseEvent.Retry is < 0)
        {
            throw new ArgumentException($"The retry value {sseEvent.Retry} is negative; use milliseconds >= 0.", nameof(sseEvent));
        }
    }

    private void WriteLines(ReadOnlySpan<byte> prefix, ReadOnlySpan<char> text)
    {
        while (true)
        {
            var i = text.IndexOfAny(LineBreakChars);
            if (i < 0)
            {
                WriteLine(prefix, text);
                return;
            }

            WriteLine(prefix, text[..i]);
            text = text[(text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n' ? i + 2 : i + 1)..];
        }
    }

    private void WriteLine(ReadOnlySpan<byte> prefix, ReadOnlySpan<char> value)
    {
        _writer.Write(prefix);
        if (!value.IsEmpty)
        {
            // Line breaks are never surrogates, so each line holds whole UTF-16 pairs.
            Encoding.UTF8.GetBytes(value, _writer);
        }

        _writer.Write("\n"u8);
    }

    private ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        ValueTask<FlushResult> flush = _writer.FlushAsync(cancellationToken);
        if (flush.IsCompletedSuccessfully)
        {
            _ = flush.Result;
            return default;
        }

        return AwaitFlushAsync(flush);

        static async ValueTask AwaitFlushAsync(ValueTask<FlushResult> flush) => await flush;
    }
}
