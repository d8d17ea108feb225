using System.Buffers;
using System.Net;
using System.Text.Json;
using System.Text.Unicode;
using Gateway.Errors;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Gateway.Generation;

/// <summary>Reads a JSON request body under a size limit and checks its media type, encoding and syntax.</summary>
internal static class RequestBodyReader
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    /// <summary>Reads and parses the body; every failure is an <see cref="ApiException"/> with a 4xx.</summary>
    public static async ValueTask<(byte[] Body, JsonDocument Document)> ReadJsonAsync(
        HttpRequest request, long maxBytes, bool allowFormContentType, CancellationToken cancellationToken)
    {
        CheckContentType(request.ContentType, allowFormContentType);
        if (request.ContentLength > maxBytes)
        {
            throw TooLarge(maxBytes);
        }
        var body = await ReadLimitedAsync(request.Body, maxBytes, cancellationToken);
        if (body.Length == 0)
        {
            throw new ApiException(new ApiError(HttpStatusCode.BadRequest, ApiErrorKind.MalformedJson,
                "Request body is empty; send a JSON object."));
        }
        if (!Utf8.IsValid(body))
        {
            throw new ApiException(new ApiError(HttpStatusCode.BadRequest, ApiErrorKind.MalformedJson,
                "Request body is not valid UTF-8."));
        }
        try
        {
            var document = JsonDocument.Parse(body, DocumentOptions);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                var kind = JsonFields.Describe(document.RootElement.ValueKind);
                document.Dispose();
                throw new ApiException(new ApiError(HttpStatusCode.BadRequest, ApiErrorKind.InvalidRequest,
                    $"Request body must be a JSON object, got {kind}."));
            }
            return (body, document);
        }
        catch (JsonException ex)
        {
            throw new ApiException(new ApiError(HttpStatusCode.BadRequest, ApiErrorKind.MalformedJson,
                $"Request body is not valid JSON: {ex.Message}"));
        }
    }

    private static void CheckContentType(string? contentType, bool allowForm)
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
            // curl -d without -H sends this; the Workers AI documentation's own curl examples do so (docs/adr/002).
            || (allowForm && type.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase));
        if (!ok)
        {
            throw Unsupported(contentType);
        }
        if (media.Charset.HasValue && !media.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
            && !media.Charset.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            throw new ApiException(new ApiError(HttpStatusCode.UnsupportedMediaType, ApiErrorKind.UnsupportedMediaType,
                $"Unsupported charset '{media.Charset}'; JSON bodies must be UTF-8."));
        }
    }

    private static ApiException Unsupported(string contentType) =>
        new(new ApiError(HttpStatusCode.UnsupportedMediaType, ApiErrorKind.UnsupportedMediaType,
            $"Unsupported Content-Type '{contentType}'; send 'application/json'."));

    private static ApiException TooLarge(long maxBytes) =>
        new(new ApiError(HttpStatusCode.RequestEntityTooLarge, ApiErrorKind.PayloadTooLarge,
            $"Request is too large: the body limit is {maxBytes} bytes."));

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
