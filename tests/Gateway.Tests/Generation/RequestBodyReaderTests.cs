using System.Net;
using System.Text;
using Gateway.Errors;
using Gateway.Generation;
using Gateway.Tests.Sse;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Generation;

public sealed class RequestBodyReaderTests
{
    private static (HttpRequest Request, MemoryStream Body) Request(byte[] body, string? contentType = "application/json", bool withLength = true)
    {
        var context = new DefaultHttpContext();
        var stream = new MemoryStream(body);
        context.Request.Body = stream;
        context.Request.ContentType = contentType;
        context.Request.ContentLength = withLength ? body.Length : null;
        return (context.Request, stream);
    }

    private static async Task<string> ReadPromptAsync(string json, long maxBytes = 1024)
    {
        var (request, _) = Request(Encoding.UTF8.GetBytes(json));
        var (_, document) = await RequestBodyReader.ReadJsonAsync(request, maxBytes, lenientContentType: false, CancellationToken.None);
        using (document)
        {
            return document.RootElement.GetProperty("prompt").GetString()!;
        }
    }

    private static async Task<ApiError> RejectAsync(byte[] body, string? contentType = "application/json", long maxBytes = 1024, bool allowForm = false, bool withLength = true)
    {
        var (request, _) = Request(body, contentType, withLength);
        var ex = await Assert.ThrowsAsync<ApiException>(() => RequestBodyReader.ReadJsonAsync(request, maxBytes, allowForm, CancellationToken.None).AsTask());
        return ex.Error;
    }

    private static Task<ApiError> RejectAsync(string json, string? contentType = "application/json", long maxBytes = 1024, bool allowForm = false) =>
        RejectAsync(Encoding.UTF8.GetBytes(json), contentType, maxBytes, allowForm);

    [Theory]
    [InlineData("""{"prompt":"\ud83d\ude00"}""", "\U0001F600")]
    [InlineData("""{"prompt":"\\ud800"}""", "\\ud800")] // an escaped backslash, then the letters: plain text
    [InlineData("""{"prompt":"caf\u00e9 \u0041"}""", "café A")]
    public async Task ValidEscapes_AreAccepted(string json, string prompt)
    {
        Assert.Equal(prompt, await ReadPromptAsync(json));
    }

    [Theory]
    [InlineData("""{"prompt":"\ud800"}""")]
    [InlineData("""{"prompt":"x\udfffy"}""")]
    [InlineData("""{"prompt":"\ude00\ud83d"}""")] // a pair in the wrong order
    [InlineData("""{"prompt":"ok","messages":[{"role":"user","content":"\ud83d"}]}""")]
    [InlineData("""{"prompt":"ok","k\udc00":1}""")]
    public async Task UnpairedSurrogateEscapes_AreMalformedJson(string json)
    {
        var error = await RejectAsync(json);

        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal(ApiErrorKind.MalformedJson, error.Kind);
        Assert.Contains("unpaired UTF-16 surrogate escape", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("application/json", false)]
    [InlineData("application/json; charset=utf-8", false)]
    [InlineData("APPLICATION/JSON; charset=\"UTF-8\"", false)]
    [InlineData("application/json;charset=utf8", false)]
    [InlineData("application/problem+json", false)]
    [InlineData("application/x-www-form-urlencoded", true)]
    [InlineData("text/plain;charset=UTF-8", true)]
    public async Task AcceptedContentTypes(string? contentType, bool allowForm)
    {
        var (request, _) = Request("""{"prompt":"hi"}"""u8.ToArray(), contentType);

        var (_, document) = await RequestBodyReader.ReadJsonAsync(request, 1024, allowForm, CancellationToken.None);

        document.Dispose();
    }

    [Theory]
    [InlineData("application/x-www-form-urlencoded", "Unsupported Content-Type 'application/x-www-form-urlencoded'")]
    [InlineData("text/plain", "Unsupported Content-Type 'text/plain'")]
    [InlineData("multipart/form-data; boundary=x", "Unsupported Content-Type 'multipart/form-data; boundary=x'")]
    [InlineData("json", "Unsupported Content-Type 'json'")]
    [InlineData("application/json; charset=latin1", "Unsupported charset 'latin1'")]
    public async Task OtherContentTypes_Are415(string contentType, string message)
    {
        var error = await RejectAsync("""{"prompt":"hi"}""", contentType);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, error.Status);
        Assert.Equal(ApiErrorKind.UnsupportedMediaType, error.Kind);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", ApiErrorKind.MalformedJson, "Request body is empty")]
    [InlineData("{", ApiErrorKind.MalformedJson, "Request body is not valid JSON")]
    [InlineData("[]", ApiErrorKind.InvalidRequest, "Request body must be a JSON object, got an array.")]
    [InlineData("null", ApiErrorKind.InvalidRequest, "Request body must be a JSON object, got null.")]
    public async Task BadBodies_Are400(string json, ApiErrorKind kind, string message)
    {
        var error = await RejectAsync(json);

        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal(kind, error.Kind);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InvalidUtf8_Is400()
    {
        var error = await RejectAsync([.. """{"prompt":"""u8, (byte)'"', 0xFF, (byte)'"', (byte)'}']);

        Assert.Equal("Request body is not valid UTF-8.", error.Message);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TooLargeBodies_Are413_AndAreDrainedSoTheClientCanReadTheAnswer(bool withLength)
    {
        var (request, stream) = Request(new byte[3000], withLength: withLength);

        var error = (await Assert.ThrowsAsync<ApiException>(() => RequestBodyReader.ReadJsonAsync(request, 1024, false, CancellationToken.None).AsTask())).Error;

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, error.Status);
        Assert.Equal(ApiErrorKind.PayloadTooLarge, error.Kind);
        Assert.Equal("Request is too large: the body limit is 1024 bytes.", error.Message);
        Assert.Equal(stream.Length, stream.Position);
    }

    [Fact]
    public async Task FarTooLargeDeclaredBodies_AreNotRead()
    {
        // Past the limit plus max(limit, 1 MiB) the gateway does not swallow the upload; the connection closes instead.
        var (request, stream) = Request([]);
        request.ContentLength = 1024 + 1024 * 1024 + 1;

        var error = (await Assert.ThrowsAsync<ApiException>(() => RequestBodyReader.ReadJsonAsync(request, 1024, false, CancellationToken.None).AsTask())).Error;

        Assert.Equal(ApiErrorKind.PayloadTooLarge, error.Kind);
        Assert.Equal(0, stream.Position);
    }

    [Fact]
    public async Task BodyOfExactlyTheLimit_IsRead()
    {
        const string head = """{"prompt":"hi","pad":"x""";
        var json = head + new string('x', 1024 - head.Length - 2) + "\"}";
        Assert.Equal(1024, Encoding.UTF8.GetByteCount(json));

        Assert.Equal("hi", await ReadPromptAsync(json, maxBytes: 1024));
    }

    [Fact]
    public async Task BodyThatNeverEnds_Is408AtTheTotalDeadline()
    {
        var context = new DefaultHttpContext();
        context.Request.Body = EndlessStream.Stalled();
        context.Request.ContentType = "application/json";

        var error = (await Assert.ThrowsAsync<ApiException>(() => RequestBodyReader.ReadJsonAsync(
            context.Request, 1024, false, TimeSpan.FromMilliseconds(50), TimeProvider.System, CancellationToken.None).AsTask())).Error;

        Assert.Equal(HttpStatusCode.RequestTimeout, error.Status);
        Assert.Contains("Gateway:RequestBodyTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClientGoingAway_IsNotATimeout()
    {
        var context = new DefaultHttpContext();
        context.Request.Body = EndlessStream.Stalled();
        using var aborted = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RequestBodyReader.ReadJsonAsync(
            context.Request, 1024, false, TimeSpan.FromHours(1), TimeProvider.System, aborted.Token).AsTask());
    }
}
