using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;
using Gateway.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Gateway.Generation;

/// <summary>Reads a JSON request body under a size limit and checks its media type, encoding and syntax.</summary>
internal static class RequestBodyReader
{
    // Duplicate keys are rejected: the gateway and the upstream could otherwise read different values of the same
    // field (a moderation bypass when the body is forwarded byte for byte).
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    /// <summary>Longest time spent discarding a too-large body.</summary>
    private static readonly TimeSpan DrainTime = TimeSpan.FromSeconds(5);

    // Timers take at most uint.MaxValue - 1 milliseconds (about 49 days); a longer deadline is none.
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    /// <summary>Reads and parses the body with no total deadline; every failure is an <see cref="ApiException"/> with a 4xx.</summary>
    public static ValueTask<(byte[] Body, JsonDocument Document)> ReadJsonAsync(
        HttpRequest request, long maxBytes, bool lenientContentType, CancellationToken cancellationToken) =>
        ReadJsonAsync(request, maxBytes, lenientContentType, Timeout.InfiniteTimeSpan, TimeProvider.System, cancellationToken);

    /// <summary>Reads and parses the body, which must arrive in full within <paramref name="timeout"/> (zero or
    /// negative: no deadline); every failure is an <see cref="ApiException"/> with a 4xx, 408 past the deadline.</summary>
    /// <param name="request">The request.</param>
    /// <param name="maxBytes">The body limit.</param>
    /// <param name="lenientContentType">Whether the types that clients send for a JSON string by default are accepted
    /// too (the Workers AI surface): <c>application/x-www-form-urlencoded</c> (<c>curl -d</c>) and <c>text/plain</c>
    /// (<c>fetch</c> with a string body).</param>
    /// <param name="timeout">The total deadline for the body.</param>
    /// <param name="time">The clock of the deadline.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public static async ValueTask<(byte[] Body, JsonDocument Document)> ReadJsonAsync(
        HttpRequest request, long maxBytes, bool lenientContentType, TimeSpan timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        CheckContentType(request.ContentType, lenientContentType);
        var drainLimit = RaiseServerLimit(request, maxBytes);
        if (TryTakeBuffered(request, maxBytes) is { } buffered)
        {
            // The whole body had arrived already: nothing to wait for, so no deadline to arm.
            return Parse(buffered);
        }
        // Kestrel's minimum data rate stops a stalled upload, not one that stays just above the rate: the total
        // deadline does.
        using var deadline = new CancellationTokenSource(timeout > TimeSpan.Zero && timeout <= MaxTimeout ? timeout : Timeout.InfiniteTimeSpan, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        try
        {
            return await ReadJsonCoreAsync(request, maxBytes, drainLimit, linked.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new ApiException(ApiErrors.BodyTimeout(timeout));
        }
    }

    /// <summary>A server that answers 413 and closes while the client is still uploading makes most clients fail with
    /// a broken pipe or reset instead of reading the 413. So the gateway enforces the limit itself and lets Kestrel
    /// accept up to the returned drain limit on this request, so that a moderately too-large body is read and discarded
    /// first. Set before anything is read: Kestrel's limit is read-only from then on.</summary>
    private static long RaiseServerLimit(HttpRequest request, long maxBytes)
    {
        var drainLimit = maxBytes + Math.Max(maxBytes, 1024 * 1024);
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } kestrelLimit)
        {
            kestrelLimit.MaxRequestBodySize = drainLimit;
        }
        return drainLimit;
    }

    /// <summary>The whole body when it is already buffered by the server (a declared length within the limit, all of
    /// it received); null when it has to be read, which then starts from the beginning.</summary>
    private static byte[]? TryTakeBuffered(HttpRequest request, long maxBytes)
    {
        if (request.ContentLength is not (> 0 and var length) || length > maxBytes || !request.BodyReader.TryRead(out var result))
        {
            return null;
        }
        var buffer = result.Buffer;
        if (!result.IsCompleted || result.IsCanceled || buffer.Length != length)
        {
            // Not all there yet: consume nothing, so the read below sees every byte again.
            request.BodyReader.AdvanceTo(buffer.Start);
            return null;
        }
        var body = buffer.ToArray();
        request.BodyReader.AdvanceTo(buffer.End);
        return body;
    }

    private static async ValueTask<(byte[] Body, JsonDocument Document)> ReadJsonCoreAsync(
        HttpRequest request, long maxBytes, long drainLimit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            if (request.ContentLength <= drainLimit)
            {
                await DrainAsync(request.Body, cancellationToken);
            }
            throw TooLarge(maxBytes);
        }
        var body = await ReadLimitedAsync(request.Body, maxBytes, cancellationToken);
        return Parse(body);
    }

    /// <summary>Checks and parses a whole body; the body returned has no leading byte order mark.</summary>
    private static (byte[] Body, JsonDocument Document) Parse(byte[] body)
    {
        if (body.AsSpan().StartsWith("\uFEFF"u8))
        {
            // RFC 8259 lets parsers ignore a byte order mark; forward the body without it.
            body = body[3..];
        }
        if (body.Length == 0)
        {
            throw new ApiException(ApiErrors.BodyEmpty());
        }
        if (!Utf8.IsValid(body))
        {
            throw new ApiException(ApiErrors.BodyNotUtf8());
        }
        try
        {
            if (HasUnpairedSurrogate(body))
            {
                throw new ApiException(ApiErrors.BodyUnpairedSurrogate());
            }
            var document = JsonDocument.Parse(body, DocumentOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                var kind = JsonFields.Describe(document.RootElement.ValueKind);
                document.Dispose();
                throw new ApiException(ApiErrors.BodyNotObject(kind));
            }
            return (body, document);
        }
        catch (JsonException ex)
        {
            throw new ApiException(ApiErrors.BodyNotJson(ex.Message));
        }
    }

    /// <summary>Whether an escaped string or property name decodes to invalid UTF-16 (a lone <c>\uD800</c>-style escape).
    /// JSON's grammar allows such escapes, but reading the string would fail later, deep in validation or moderation.</summary>
    private static bool HasUnpairedSurrogate(ReadOnlySpan<byte> json)
    {
        if (json.IndexOf("\\u"u8) < 0)
        {
            return false;
        }
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = DocumentOptions.MaxDepth });
        while (reader.Read())
        {
            if (reader.TokenType is (JsonTokenType.String or JsonTokenType.PropertyName) && reader.ValueIsEscaped)
            {
                try
                {
                    _ = reader.GetString();
                }
                catch (InvalidOperationException)
                {
                    return true;
                }
            }
        }
        return false;
    }

    private static void CheckContentType(string? contentType, bool lenient)
    {
        // A missing type is accepted: many HTTP clients omit it for JSON bodies.
        if (string.IsNullOrEmpty(contentType))
        {
            return;
        }
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media) || media.MediaType.Value is not { } type)
        {
            throw Unsupported(contentType);
        }
        var ok = type.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase)
            // curl -d without -H sends the form type and fetch() with a string body sends text/plain; the Workers AI
            // documentation's own curl and fetch examples do so (docs/adr/002).
            || (lenient && (type.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase)
                || type.Equals("text/plain", StringComparison.OrdinalIgnoreCase)));
        if (!ok)
        {
            throw Unsupported(contentType);
        }
        // The charset may be a quoted string (charset="utf-8").
        var charset = HeaderUtilities.RemoveQuotes(media.Charset);
        if (charset.HasValue && !charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
            && !charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiException(ApiErrors.UnsupportedCharset(charset));
        }
    }

    private static ApiException Unsupported(string contentType) => new(ApiErrors.UnsupportedContentType(contentType));

    private static ApiException TooLarge(long maxBytes) => new(ApiErrors.BodyTooLarge(maxBytes));

    /// <summary>Reads and discards the rest of a too-large body (see <see cref="ReadJsonCoreAsync"/>); stops quietly past
    /// Kestrel's limit for the request, after <see cref="DrainTime"/>, or when the client goes away, and the
    /// connection then closes after the 413.</summary>
    private static async Task DrainAsync(Stream body, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DrainTime);
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (await body.ReadAsync(buffer, timeout.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is BadHttpRequestException or OperationCanceledException or IOException)
        {
            // Too much, too slow or gone: the 413 is still answered.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async ValueTask<byte[]> ReadLimitedAsync(Stream body, long maxBytes, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                int read;
                try
                {
                    read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                }
                catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    throw TooLarge(maxBytes);
                }
                if (read == 0)
                {
                    return buffer.AsSpan(0, length).ToArray();
                }
                length += read;
                if (length > maxBytes)
                {
                    await DrainAsync(body, cancellationToken);
                    throw TooLarge(maxBytes);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
