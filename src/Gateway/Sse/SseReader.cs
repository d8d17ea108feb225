using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace Gateway.Sse;

/// <summary>Reads Server-Sent Events incrementally from a stream, per the WHATWG HTML event stream interpretation.</summary>
/// <remarks>
/// Each event is returned as soon as its terminating blank line arrives; only the current event and the line being
/// read are held in memory, bounded by <see cref="MaxEventSize"/>. Lines end at LF, CRLF or CR (a CRLF split across
/// reads counts once); one leading UTF-8 BOM is skipped; text is decoded as UTF-8 once per complete line, so a
/// character split across reads decodes correctly. Per the spec, an event left without its blank line at the end of
/// the stream is not dispatched; <see cref="HadIncompleteEvent"/> reports it so a relay can detect truncation.
/// Not thread-safe: one reader per stream, one read at a time.
/// </remarks>
public sealed class SseReader : IAsyncDisposable
{
    /// <summary>The default <see cref="MaxEventSize"/>: 1 MiB.</summary>
    public const int DefaultMaxEventSize = 1024 * 1024;

    private static readonly SearchValues<byte> LineBreaks = SearchValues.Create("\r\n"u8);

    private readonly PipeReader _reader;
    private readonly bool _ownsReader;
    private readonly SseEventBuilder _builder = new();
    private byte[]? _lineScratch;
    private long _scanned;
    private long _eventBytes;
    private bool _bomChecked;
    private bool _skipLineFeed;
    private bool _disposed;

    /// <summary>Creates a reader over a stream, such as an upstream <c>HttpResponseMessage</c> body.</summary>
    /// <param name="stream">The event stream.</param>
    /// <param name="maxEventSize">The most bytes one event may take; see <see cref="MaxEventSize"/>.</param>
    /// <param name="leaveOpen">Whether disposing the reader leaves <paramref name="stream"/> open.</param>
    public SseReader(Stream stream, int maxEventSize = DefaultMaxEventSize, bool leaveOpen = false)
        : this(PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: leaveOpen)), maxEventSize, ownsReader: true)
    {
    }

    /// <summary>Creates a reader over a pipe, such as an ASP.NET Core <c>HttpRequest.BodyReader</c>.</summary>
    /// <param name="reader">The event stream; the caller keeps ownership and completes it.</param>
    /// <param name="maxEventSize">The most bytes one event may take; see <see cref="MaxEventSize"/>.</param>
    public SseReader(PipeReader reader, int maxEventSize = DefaultMaxEventSize)
        : this(reader, maxEventSize, ownsReader: false)
    {
    }

    private SseReader(PipeReader reader, int maxEventSize, bool ownsReader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEventSize);
        _reader = reader;
        _ownsReader = ownsReader;
        MaxEventSize = maxEventSize;
    }

    /// <summary>The most bytes one event may take: its field lines (comments excluded) plus the line being read.</summary>
    /// <remarks>Exceeding it throws <see cref="SseFormatException"/>, so a hostile upstream cannot exhaust memory by
    /// sending an endless line or an endless event.</remarks>
    public int MaxEventSize { get; }

    /// <summary>The spec's last event ID: the latest valid <c>id</c> field, kept across events.</summary>
    public string LastEventId => _builder.LastEventId;

    /// <summary>The latest valid <c>retry</c> field in milliseconds, or null when none arrived.</summary>
    public int? ReconnectionTime => _builder.ReconnectionTime;

    /// <summary>Whether the end of the stream has been reached.</summary>
    public bool IsCompleted { get; private set; }

    /// <summary>Whether the stream ended in the middle of an event that had data, which was therefore discarded.</summary>
    public bool HadIncompleteEvent { get; private set; }

    /// <summary>Whether the stream reached its end with no event left incomplete.</summary>
    public bool EndedCleanly => IsCompleted && !HadIncompleteEvent;

    /// <summary>Reads events until the end of the stream, yielding each as soon as it is complete.</summary>
    /// <param name="cancellationToken">Cancels the pending read with <see cref="OperationCanceledException"/>.</param>
    public async IAsyncEnumerable<SseEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await ReadAsync(cancellationToken) is { } sseEvent)
        {
            yield return sseEvent;
        }
    }

    /// <summary>Reads the next event, or returns null at the end of the stream.</summary>
    /// <param name="cancellationToken">Cancels the pending read with <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="SseFormatException">An event or line exceeds <see cref="MaxEventSize"/>.</exception>
    public async ValueTask<SseEvent?> ReadAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        while (!IsCompleted)
        {
            ReadResult result = await _reader.ReadAsync(cancellationToken);
            if (result.IsCanceled)
            {
                throw new OperationCanceledException("The read was canceled.", cancellationToken);
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            if (TryReadEvent(ref buffer, result.IsCompleted, out SseEvent sseEvent))
            {
                // examined == consumed: the rest may already hold the next event, so the next read must not wait.
                _reader.AdvanceTo(buffer.Start);
                return sseEvent;
            }

            if (result.IsCompleted)
            {
                Complete(buffer);
                _reader.AdvanceTo(buffer.End);
                return null;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
        }

        return null;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _builder.Dispose();
        if (_lineScratch is not null)
        {
            ArrayPool<byte>.Shared.Return(_lineScratch);
            _lineScratch = null;
        }

        if (_ownsReader)
        {
            await _reader.CompleteAsync();
        }
    }

    private bool TryReadEvent(ref ReadOnlySequence<byte> buffer, bool isCompleted, out SseEvent sseEvent)
    {
        if (!_bomChecked && !TrySkipBom(ref buffer, isCompleted))
        {
            sseEvent = default;
            return false;
        }

        while (TryReadLine(ref buffer, out ReadOnlySequence<byte> line))
        {
            if (line.IsEmpty)
            {
                _eventBytes = 0;
                if (_builder.TryDispatch(out sseEvent))
                {
                    return true;
                }

                continue;
            }

            if (FirstByte(line) == (byte)':')
            {
                continue;
            }

            var span = Linearize(line);
            _eventBytes += span.Length;
            ThrowIfTooLarge(_eventBytes);
            _builder.ProcessField(span);
        }

        // What is left is the start of a line still to come.
        ThrowIfTooLarge(_eventBytes + buffer.Length);
        sseEvent = default;
        return false;
    }

    private bool TrySkipBom(ref ReadOnlySequence<byte> buffer, bool isCompleted)
    {
        ReadOnlySpan<byte> bom = [0xEF, 0xBB, 0xBF];
        Span<byte> head = stackalloc byte[3];
        var length = (int)Math.Min(buffer.Length, 3);
        buffer.Slice(0, length).CopyTo(head);
        if (length == 3 && head.SequenceEqual(bom))
        {
            buffer = buffer.Slice(3);
        }
        else if (length < 3 && head[..length].SequenceEqual(bom[..length]) && !isCompleted)
        {
            return false;
        }

        _bomChecked = true;
        return true;
    }

    private bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        line = default;
        if (_skipLineFeed)
        {
            // The previous line ended with CR; an LF right after it belongs to the same line break.
            if (buffer.IsEmpty)
            {
                return false;
            }

            _skipLineFeed = false;
            if (FirstByte(buffer) == (byte)'\n')
            {
                buffer = buffer.Slice(1);
            }
        }

        var index = IndexOfLineBreak(buffer, _scanned, out var lineBreak);
        if (index < 0)
        {
            // Remember how far the partial line has been searched, so byte-by-byte arrivals stay linear.
            _scanned = buffer.Length;
            return false;
        }

        line = buffer.Slice(0, index);
        buffer = buffer.Slice(index + 1);
        _scanned = 0;
        _skipLineFeed = lineBreak == (byte)'\r';
        return true;
    }

    private static long IndexOfLineBreak(in ReadOnlySequence<byte> buffer, long start, out byte lineBreak)
    {
        if (buffer.IsSingleSegment)
        {
            ReadOnlySpan<byte> span = buffer.FirstSpan;
            var i = span[(int)start..].IndexOfAny(LineBreaks);
            lineBreak = i < 0 ? (byte)0 : span[(int)start + i];
            return i < 0 ? -1 : start + i;
        }

        var offset = start;
        foreach (ReadOnlyMemory<byte> segment in buffer.Slice(start))
        {
            var i = segment.Span.IndexOfAny(LineBreaks);
            if (i >= 0)
            {
                lineBreak = segment.Span[i];
                return offset + i;
            }

            offset += segment.Length;
        }

        lineBreak = 0;
        return -1;
    }

    private void Complete(ReadOnlySequence<byte> rest)
    {
        // Per the spec the pending event is discarded at the end of the stream; an unterminated data line counts.
        var partialDataLine = !rest.IsEmpty && SseEventBuilder.IsDataField(Linearize(rest));
        HadIncompleteEvent = _builder.HasPendingData || partialDataLine;
        _builder.Reset();
        IsCompleted = true;
    }

    private ReadOnlySpan<byte> Linearize(in ReadOnlySequence<byte> line)
    {
        if (line.IsSingleSegment)
        {
            return line.FirstSpan;
        }

        var length = (int)line.Length;
        if (_lineScratch is null || _lineScratch.Length < length)
        {
            if (_lineScratch is not null)
            {
                ArrayPool<byte>.Shared.Return(_lineScratch);
            }

            _lineScratch = ArrayPool<byte>.Shared.Rent(length);
        }

        line.CopyTo(_lineScratch);
        return _lineScratch.AsSpan(0, length);
    }

    private static byte FirstByte(in ReadOnlySequence<byte> buffer)
    {
        foreach (ReadOnlyMemory<byte> segment in buffer)
        {
            if (!segment.IsEmpty)
            {
                return segment.Span[0];
            }
        }

        return 0;
    }

    private void ThrowIfTooLarge(long size)
    {
        if (size > MaxEventSize)
        {
            throw new SseFormatException($"An event in the stream exceeds the maximum event size of {MaxEventSize} bytes.");
        }
    }
}
