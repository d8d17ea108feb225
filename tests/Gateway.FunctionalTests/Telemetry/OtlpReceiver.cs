using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.FunctionalTests.Telemetry;

/// <summary>One OTLP/HTTP export the receiver got: the signal path and the raw protobuf body.</summary>
public sealed record OtlpExport(string Path, string ContentType, byte[] Body);

/// <summary>An attribute value as OTLP carries it: string, bool, long, double, or an array of those.</summary>
public sealed class OtlpAttributes(IReadOnlyDictionary<string, object?> values)
{
    public IReadOnlyDictionary<string, object?> Values { get; } = values;

    public object? this[string key] => Values.TryGetValue(key, out var value) ? value : null;

    public bool Has(string key) => Values.ContainsKey(key);

    public string? Text(string key) => this[key] as string;

    public long? Number(string key) => this[key] as long?;

    public string[] Strings(string key) => this[key] is object?[] array ? [.. array.Select(v => v as string ?? "")] : [];

    public override string ToString() => string.Join(", ", Values.Select(kv => $"{kv.Key}={Show(kv.Value)}"));

    private static string Show(object? value) => value is object?[] array ? "[" + string.Join(",", array) + "]" : $"{value}";
}

/// <summary>A span from an OTLP trace export.</summary>
public sealed record OtlpSpan(
    string Scope, string Name, int Kind, string TraceId, string SpanId, string ParentSpanId, OtlpAttributes Attributes,
    IReadOnlyList<(string Name, OtlpAttributes Attributes)> Events, int StatusCode)
{
    public override string ToString() => $"{Name} (scope {Scope}, kind {Kind}, status {StatusCode}) {{{Attributes}}}";
}

/// <summary>A data point of a sum or histogram from an OTLP metrics export: for a sum, its value; for a histogram,
/// its count and sum.</summary>
public sealed record OtlpPoint(string Metric, string Unit, string Type, OtlpAttributes Attributes, double Value, double Sum)
{
    public override string ToString() => $"{Metric} [{Unit}] {Type} {Value} {{{Attributes}}}";
}

/// <summary>A log record from an OTLP logs export.</summary>
public sealed record OtlpLog(string Scope, string EventName, int Severity, string? Body, OtlpAttributes Attributes, string TraceId, string SpanId)
{
    public override string ToString() => $"{EventName} ({Scope}): {Body} {{{Attributes}}}";
}

/// <summary>An in-process OTLP/HTTP receiver on loopback: it keeps every export's raw protobuf bytes (to search them
/// for text that must not be there) and decodes spans, metric points and log records from them with a small protobuf
/// reader (the field numbers of opentelemetry-proto's trace, metrics, logs and common messages).</summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app, Uri address)
    {
        _app = app;
        BaseAddress = address;
    }

    /// <summary>http://127.0.0.1:port (no trailing slash: the exporter appends <c>/v1/traces</c> and the others).</summary>
    public Uri BaseAddress { get; }

    /// <summary>Every export, in arrival order.</summary>
    public ConcurrentQueue<OtlpExport> Exports { get; } = new();

    public static async Task<OtlpReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        OtlpReceiver? self = null;
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            self!.Exports.Enqueue(new OtlpExport(context.Request.Path, context.Request.ContentType ?? "", body.ToArray()));
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/x-protobuf";
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        self = new OtlpReceiver(app, new Uri(address.TrimEnd('/')));
        return self;
    }

    /// <summary>Every span received.</summary>
    public IReadOnlyList<OtlpSpan> Spans()
    {
        var spans = new List<OtlpSpan>();
        foreach (var export in Exports.Where(e => e.Path == "/v1/traces"))
        {
            foreach (var resourceSpans in Proto.Messages(export.Body, 1))
            {
                foreach (var scopeSpans in Proto.Messages(resourceSpans, 2))
                {
                    var scope = ScopeName(scopeSpans);
                    foreach (var span in Proto.Messages(scopeSpans, 2))
                    {
                        var events = Proto.Messages(span, 11)
                            .Select(e => (Proto.String(e, 2) ?? "", Attributes(e, 3)))
                            .ToList();
                        var status = Proto.Messages(span, 15).Select(s => (int)Proto.Varint(s, 3)).FirstOrDefault();
                        spans.Add(new OtlpSpan(scope, Proto.String(span, 5) ?? "", (int)Proto.Varint(span, 6),
                            Hex(Proto.Bytes(span, 1)), Hex(Proto.Bytes(span, 2)), Hex(Proto.Bytes(span, 4)), Attributes(span, 9), events, status));
                    }
                }
            }
        }
        return spans;
    }

    /// <summary>The data points of the last export that carried each metric (the exporter sends cumulative sums, so
    /// the last one holds everything).</summary>
    public IReadOnlyList<OtlpPoint> Points()
    {
        var latest = new Dictionary<string, List<OtlpPoint>>(StringComparer.Ordinal);
        foreach (var export in Exports.Where(e => e.Path == "/v1/metrics"))
        {
            foreach (var resourceMetrics in Proto.Messages(export.Body, 1))
            {
                foreach (var scopeMetrics in Proto.Messages(resourceMetrics, 2))
                {
                    foreach (var metric in Proto.Messages(scopeMetrics, 2))
                    {
                        var name = Proto.String(metric, 1) ?? "";
                        var unit = Proto.String(metric, 3) ?? "";
                        var points = new List<OtlpPoint>();
                        foreach (var sum in Proto.Messages(metric, 7))
                        {
                            foreach (var point in Proto.Messages(sum, 1))
                            {
                                var value = Proto.Has(point, 4) ? BitConverter.Int64BitsToDouble((long)Proto.Varint(point, 4)) : (long)Proto.Varint(point, 6);
                                points.Add(new OtlpPoint(name, unit, "sum", Attributes(point, 7), value, value));
                            }
                        }
                        foreach (var gauge in Proto.Messages(metric, 5))
                        {
                            foreach (var point in Proto.Messages(gauge, 1))
                            {
                                var value = Proto.Has(point, 4) ? BitConverter.Int64BitsToDouble((long)Proto.Varint(point, 4)) : (long)Proto.Varint(point, 6);
                                points.Add(new OtlpPoint(name, unit, "gauge", Attributes(point, 7), value, value));
                            }
                        }
                        foreach (var histogram in Proto.Messages(metric, 9))
                        {
                            foreach (var point in Proto.Messages(histogram, 1))
                            {
                                points.Add(new OtlpPoint(name, unit, "histogram", Attributes(point, 9), Proto.Varint(point, 4),
                                    BitConverter.Int64BitsToDouble((long)Proto.Varint(point, 5))));
                            }
                        }
                        latest[name] = points;
                    }
                }
            }
        }
        return [.. latest.Values.SelectMany(p => p)];
    }

    /// <summary>Every log record received.</summary>
    public IReadOnlyList<OtlpLog> Logs()
    {
        var logs = new List<OtlpLog>();
        foreach (var export in Exports.Where(e => e.Path == "/v1/logs"))
        {
            foreach (var resourceLogs in Proto.Messages(export.Body, 1))
            {
                foreach (var scopeLogs in Proto.Messages(resourceLogs, 2))
                {
                    var scope = ScopeName(scopeLogs);
                    foreach (var record in Proto.Messages(scopeLogs, 2))
                    {
                        var body = Proto.Messages(record, 5).Select(v => AnyValue(v) as string).FirstOrDefault();
                        logs.Add(new OtlpLog(scope, Proto.String(record, 12) ?? "", (int)Proto.Varint(record, 2), body, Attributes(record, 6),
                            Hex(Proto.Bytes(record, 9)), Hex(Proto.Bytes(record, 10))));
                    }
                }
            }
        }
        return logs;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static string ScopeName(ReadOnlyMemory<byte> scoped) => Proto.Messages(scoped, 1).Select(s => Proto.String(s, 1) ?? "").FirstOrDefault() ?? "";

    private static OtlpAttributes Attributes(ReadOnlyMemory<byte> message, int field)
    {
        var values = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var keyValue in Proto.Messages(message, field))
        {
            values[Proto.String(keyValue, 1) ?? ""] = Proto.Messages(keyValue, 2).Select(AnyValue).FirstOrDefault();
        }
        return new OtlpAttributes(values);
    }

    // AnyValue: string 1, bool 2, int 3, double 4, array 5 (ArrayValue.values 1), kvlist 6, bytes 7.
    private static object? AnyValue(ReadOnlyMemory<byte> value)
    {
        foreach (var (field, wire, number, bytes) in Proto.Fields(value))
        {
            return (field, wire) switch
            {
                (1, 2) => Encoding.UTF8.GetString(bytes.Span),
                (2, 0) => number != 0,
                (3, 0) => (long)number,
                (4, 1) => BitConverter.Int64BitsToDouble((long)number),
                (5, 2) => Proto.Messages(bytes, 1).Select(AnyValue).ToArray(),
                (7, 2) => bytes.ToArray(),
                _ => null,
            };
        }
        return null;
    }

    private static string Hex(ReadOnlyMemory<byte> bytes) => Convert.ToHexStringLower(bytes.Span);

    /// <summary>The protobuf wire format, read only as far as OTLP needs.</summary>
    private static class Proto
    {
        public static IEnumerable<(int Field, int Wire, ulong Number, ReadOnlyMemory<byte> Bytes)> Fields(ReadOnlyMemory<byte> message)
        {
            var position = 0;
            while (position < message.Length)
            {
                var key = ReadVarint(message.Span, ref position);
                var field = (int)(key >> 3);
                var wire = (int)(key & 7);
                switch (wire)
                {
                    case 0:
                        yield return (field, wire, ReadVarint(message.Span, ref position), default);
                        break;
                    case 1:
                        yield return (field, wire, BitConverter.ToUInt64(message.Span.Slice(position, 8)), default);
                        position += 8;
                        break;
                    case 2:
                        var length = (int)ReadVarint(message.Span, ref position);
                        yield return (field, wire, 0, message.Slice(position, length));
                        position += length;
                        break;
                    case 5:
                        yield return (field, wire, BitConverter.ToUInt32(message.Span.Slice(position, 4)), default);
                        position += 4;
                        break;
                    default:
                        throw new InvalidDataException($"unexpected protobuf wire type {wire} for field {field}");
                }
            }
        }

        public static IEnumerable<ReadOnlyMemory<byte>> Messages(ReadOnlyMemory<byte> message, int field) =>
            Fields(message).Where(f => f.Field == field && f.Wire == 2).Select(f => f.Bytes);

        public static ReadOnlyMemory<byte> Bytes(ReadOnlyMemory<byte> message, int field) => Messages(message, field).FirstOrDefault();

        public static string? String(ReadOnlyMemory<byte> message, int field) =>
            Fields(message).Where(f => f.Field == field && f.Wire == 2).Select(f => Encoding.UTF8.GetString(f.Bytes.Span)).FirstOrDefault();

        public static ulong Varint(ReadOnlyMemory<byte> message, int field) =>
            Fields(message).Where(f => f.Field == field && f.Wire != 2).Select(f => f.Number).FirstOrDefault();

        public static bool Has(ReadOnlyMemory<byte> message, int field) => Fields(message).Any(f => f.Field == field);

        private static ulong ReadVarint(ReadOnlySpan<byte> span, ref int position)
        {
            ulong value = 0;
            for (var shift = 0; ; shift += 7)
            {
                var b = span[position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }
        }
    }
}
