using System.Buffers;
using System.Text.Json;
using Gateway.Generation;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Gateway.Errors;

/// <summary>Writes an <see cref="ApiError"/> in the caller's own error envelope; the single place errors meet HTTP.</summary>
internal static class ErrorWriter
{
    /// <summary>Serializes the error body for a surface.</summary>
    public static byte[] Serialize(ApiError error, bool workersAi)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var json = new Utf8JsonWriter(buffer, Formatting.JsonText.WriterOptions))
        {
            Write(json, error, workersAi);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the error object; shared by JSON bodies and SSE error events.</summary>
    public static void Write(Utf8JsonWriter json, ApiError error, bool workersAi)
    {
        json.WriteStartObject();
        if (workersAi)
        {
            json.WriteBoolean("success", false);
            json.WriteStartArray("errors");
            json.WriteStartObject();
            json.WriteNumber("code", ErrorCatalog.WorkersAiCode(error.Kind));
            json.WriteString("message", error.Param is null ? error.Message : $"{error.Message} (at '{error.Param}')");
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteStartArray("messages");
            json.WriteEndArray();
            json.WriteNull("result");
        }
        else
        {
            json.WriteStartObject("error");
            json.WriteString("message", error.Message);
            json.WriteString("type", ErrorCatalog.OpenAiType(error.Kind));
            if (error.Param is null) { json.WriteNull("param"); } else { json.WriteString("param", error.Param); }
            var code = ErrorCatalog.OpenAiCode(error.Kind);
            if (code is null) { json.WriteNull("code"); } else { json.WriteString("code", code); }
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    /// <summary>Writes a complete error response when the response has not started.</summary>
    public static async Task WriteResponseAsync(HttpContext context, ApiError error, bool workersAi)
    {
        if (context.Response.HasStarted)
        {
            return;
        }
        var body = Serialize(error, workersAi);
        // Routing's 405 lists the route's methods in Allow; keep it across Clear.
        var allow = context.Response.Headers.Allow;
        context.Response.Clear();
        context.Response.StatusCode = (int)ErrorCatalog.Status(error, workersAi);
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        if (error.Kind == ApiErrorKind.MethodNotAllowed)
        {
            context.Response.Headers.Allow = StringValues.IsNullOrEmpty(allow) ? "POST" : allow;
        }
        if (error.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }
        if (error.Kind == ApiErrorKind.Unauthorized)
        {
            // RFC 9110: a 401 names the scheme it wants.
            context.Response.Headers.WWWAuthenticate = "Bearer";
        }
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    /// <summary>Decides the envelope from the request path when no endpoint has claimed the request.</summary>
    public static bool IsWorkersAiPath(PathString path) =>
        !path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase);

    /// <summary>The envelope for a client API.</summary>
    public static bool IsWorkersAi(ClientApi api) => api.IsWorkersAi();
}
