using System.Text;

namespace Gateway.FunctionalTests.BadInput;

/// <summary>The API surface a row is sent to; it decides the default path and the error envelope.</summary>
public enum Surface
{
    WorkersAiShort,
    WorkersAiRest,
    OpenAiChat,
    OpenAiCompletions,
}

/// <summary>What a row must be rejected as; each fault has one status and one code per envelope (docs/api.md).</summary>
public enum Fault
{
    MalformedJson,
    Invalid,
    ModelNotFound,
    LoraUnsupported,
    RouteNotFound,
    MethodNotAllowed,
    TooLarge,
    MediaType,
    Timeout,
}

/// <summary>One row of the bad-input table: a request and how the gateway must reject it.</summary>
public sealed record BadInputCase(string Name, Surface Surface, Fault Fault, string MessageContains)
{
    public const string Llama2 = "@cf/meta/llama-2-7b-chat-fp16";
    public const string Llama2Int8 = "@cf/meta/llama-2-7b-chat-int8";
    public const string Llama31 = "@cf/meta/llama-3.1-8b-instruct-awq";
    public const string LoraModel = "@cf/meta-llama/llama-2-7b-chat-hf-lora";

    /// <summary>The body limit of the small-limit gateway (<see cref="Limited"/> rows).</summary>
    public const int SmallBodyLimit = 64 * 1024;

    public string Method { get; init; } = "POST";

    /// <summary>The model in the path (Workers AI); OpenAI rows carry theirs in the body.</summary>
    public string Model { get; init; } = Llama2;

    /// <summary>A path overriding the surface's own (relative to the gateway's base address).</summary>
    public string? PathOverride { get; init; }

    public byte[]? Body { get; init; }

    /// <summary>The Content-Type header exactly as sent; null sends none.</summary>
    public string? ContentType { get; init; } = "application/json";

    /// <summary>Send the body with Transfer-Encoding: chunked and no Content-Length.</summary>
    public bool Chunked { get; init; }

    /// <summary>Send to the gateway whose body limit is <see cref="SmallBodyLimit"/>.</summary>
    public bool Limited { get; init; }

    /// <summary>The offending field: OpenAI's <c>param</c>, and the "(at '...')" suffix of Workers AI messages.</summary>
    public string? Param { get; init; }

    /// <summary>The Allow header a 405 must carry.</summary>
    public string? Allow { get; init; }

    /// <summary>Whether the error comes in the Workers AI envelope (else OpenAI's).</summary>
    public bool WorkersAiEnvelope => Surface is Surface.WorkersAiShort or Surface.WorkersAiRest;

    public string Path => PathOverride ?? Surface switch
    {
        Surface.WorkersAiShort => $"ai/run/{Model}",
        Surface.WorkersAiRest => $"client/v4/accounts/client-account/ai/run/{Model}",
        Surface.OpenAiChat => "v1/chat/completions",
        _ => "v1/completions",
    };

    public int ExpectedStatus => Fault switch
    {
        Fault.MalformedJson or Fault.Invalid => 400,
        Fault.ModelNotFound => WorkersAiEnvelope ? 400 : 404,
        Fault.LoraUnsupported => WorkersAiEnvelope ? 405 : 400,
        Fault.RouteNotFound => 404,
        Fault.MethodNotAllowed => 405,
        Fault.TooLarge => 413,
        Fault.MediaType => 415,
        Fault.Timeout => 408,
        _ => throw new InvalidOperationException(Fault.ToString()),
    };

    /// <summary>The Workers AI <c>errors[0].code</c>.</summary>
    public int WorkersAiCode => Fault switch
    {
        Fault.MalformedJson => 5004,
        Fault.Invalid or Fault.Timeout => 5006,
        Fault.ModelNotFound => 5007,
        Fault.LoraUnsupported => 5005,
        Fault.RouteNotFound => 7000,
        Fault.MethodNotAllowed => 7001,
        Fault.TooLarge => 3006,
        Fault.MediaType => 3003,
        _ => throw new InvalidOperationException(Fault.ToString()),
    };

    /// <summary>The OpenAI <c>error.code</c> (every fault here has type <c>invalid_request_error</c>).</summary>
    public string? OpenAiCode => Fault switch
    {
        Fault.MalformedJson => "invalid_json",
        Fault.ModelNotFound => "model_not_found",
        Fault.RouteNotFound => "unknown_url",
        Fault.MethodNotAllowed => "method_not_allowed",
        Fault.TooLarge => "request_too_large",
        Fault.MediaType => "unsupported_media_type",
        _ => null,
    };

    public override string ToString() => $"{Surface} {Method} {Path}: {Name}";

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
