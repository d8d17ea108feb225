using System.Buffers;
using System.Globalization;
using System.Text;

namespace Gateway.Sse;

/// <summary>Applies the fields of one event block, line by line, and builds the event at its blank line.</summary>
/// <remarks>Implements the field processing and dispatch steps of the WHATWG HTML "event stream interpretation"
/// on UTF-8 bytes; the data buffer is pooled and decoded once per event.</remarks>
internal sealed class SseEventBuilder : IDisposable
{
    private const int InitialDataCapacity = 256;

    private byte[]? _data;
    private int _dataLength;
    private string? _eventType;
    private string? _id;
    private int? _retry;

    // Streams that name their events (Anthropic: content_block_delta, ...) repeat a few types; reusing the last
    // decoded string saves one allocation per event.
    private byte[]? _cachedEventTypeUtf8;
    private string? _cachedEventType;

    /// <summary>The spec's last event ID: the value of the latest valid <c>id</c> field, kept across events.</summary>
    public string LastEventId { get; private set; } = string.Empty;

    /// <summary>The latest valid <c>retry</c> value in milliseconds, kept across events; null until one arrives.</summary>
    public int? ReconnectionTime { get; private set; }

    /// <summary>Whether the pending event has at least one <c>data</c> line, so a blank line would dispatch it.</summary>
    public bool HasPendingData => _dataLength > 0;

    /// <summary>Whether a line (without its terminator) is a <c>data</c> field line.</summary>
    public static bool IsDataField(ReadOnlySpan<byte> line)
    {
        var colon = line.IndexOf((byte)':');
        return (colon < 0 ? line : line[..colon]).SequenceEqual("data"u8);
    }

    /// <summary>Processes one non-empty line that is not a comment.</summary>
    public void ProcessField(ReadOnlySpan<byte> line)
    {
        ReadOnlySpan<byte> name = line;
        ReadOnlySpan<byte> value = default;
        var colon = line.IndexOf((byte)':');
        if (colon >= 0)
        {
            name = line[..colon];
            value = line[(colon + 1)..];
            if (!value.IsEmpty && value[0] == (byte)' ')
            {
                value = value[1..];
            }
        }

        if (name.SequenceEqual("data"u8))
        {
            AppendData(value);
        }
        else if (name.SequenceEqual("event"u8))
        {
            _eventType = value.IsEmpty ? null : DecodeEventType(value);
        }
        else if (name.SequenceEqual("id"u8))
        {
            if (!value.Contains((byte)0))
            {
                _id = value.IsEmpty ? string.Empty : Encoding.UTF8.GetString(value);
                LastEventId = _id;
            }
        }
        else if (name.SequenceEqual("retry"u8))
        {
            // The spec accepts ASCII digits only: no sign, no spaces. A value past int.MaxValue is ignored.
            if (!value.IsEmpty
                && !value.ContainsAnyExceptInRange((byte)'0', (byte)'9')
                && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var retry))
            {
                _retry = retry;
                ReconnectionTime = retry;
            }
        }
    }

    /// <summary>Ends the pending block at a blank line; returns the event when the block had data.</summary>
    public bool TryDispatch(out SseEvent sseEvent)
    {
        var eventType = _eventType;
        var id = _id;
        var retry = _retry;
        _eventType = null;
        _id = null;
        _retry = null;

        if (_dataLength == 0)
        {
            sseEvent = default;
            return false;
        }

        // Every data line appended a '\n'; the last one is not part of the payload.
        ReadOnlySpan<byte> data = _data.AsSpan(0, _dataLength - 1);
        _dataLength = 0;
        var text = data.IsEmpty ? string.Empty
            : data.SequenceEqual("[DONE]"u8) ? SseEvent.DoneData
            : Encoding.UTF8.GetString(data);
        sseEvent = new SseEvent(text, eventType, id, retry);
        return true;
    }

    /// <summary>Drops the pending block without dispatching it.</summary>
    public void Reset()
    {
        _dataLength = 0;
        _eventType = null;
        _id = null;
        _retry = null;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_data is not null)
        {
            ArrayPool<byte>.Shared.Return(_data);
            _data = null;
        }

        _dataLength = 0;
    }

    private void AppendData(ReadOnlySpan<byte> value)
    {
        var needed = _dataLength + value.Length + 1;
        if (_data is null || needed > _data.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(InitialDataCapacity, (_data?.Length ?? 0) * 2)));
            if (_data is not null)
            {
                _data.AsSpan(0, _dataLength).CopyTo(grown);
                ArrayPool<byte>.Shared.Return(_data);
            }

            _data = grown;
        }

        value.CopyTo(_data.AsSpan(_dataLength));
        _dataLength += value.Length;
        _data[_dataLength++] = (byte)'\n';
    }

    private string DecodeEventType(ReadOnlySpan<byte> value)
    {
        if (_cachedEventType is not null && value.SequenceEqual(_cachedEventTypeUtf8))
        {
            return _cachedEventType;
        }

        _cachedEventTypeUtf8 = value.ToArray();
        _cachedEventType = Encoding.UTF8.GetString(value);
        return _cachedEventType;
    }
}
