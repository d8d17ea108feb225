namespace Gateway.Generation;

/// <summary>The API surface a client called; it decides the request schema, the response shape and the error envelope.</summary>
public enum ClientApi
{
    /// <summary><c>POST /ai/run/{model}</c>: Workers AI with bare results (<c>{"response":...}</c>).</summary>
    WorkersAiShort,

    /// <summary><c>POST /client/v4/accounts/{account_id}/ai/run/{model}</c>: Workers AI REST with the result envelope.</summary>
    WorkersAiRest,

    /// <summary><c>POST /v1/chat/completions</c>.</summary>
    OpenAiChat,

    /// <summary><c>POST /v1/completions</c>.</summary>
    OpenAiCompletions,
}

internal static class ClientApiExtensions
{
    public static bool IsWorkersAi(this ClientApi api) => api is ClientApi.WorkersAiShort or ClientApi.WorkersAiRest;
}
