using System.Text;
using static Gateway.FunctionalTests.BadInput.BadInputCase;

namespace Gateway.FunctionalTests.BadInput;

/// <summary>The bad-input table, per API surface. Each row is otherwise valid, so the one fault it carries is what the
/// gateway must report; ranges and limits are the shipped catalog's (src/Gateway/appsettings.json).</summary>
public static class BadInputCases
{
    private const string Hi = """[{"role":"user","content":"hi"}]""";

    /// <summary>One character over the llama-3.1 prompt limit (131072).</summary>
    private static readonly string TooLongText = new('x', 131_073);

    public static IReadOnlyList<BadInputCase> WorkersAi(Surface surface)
    {
        var rows = new List<BadInputCase>();
        void Add(string name, Fault fault, string contains, string body, string? param = null, string model = Llama2) =>
            rows.Add(new BadInputCase(name, surface, fault, contains) { Body = Utf8(body), Param = param, Model = model });
        void Invalid(string name, string contains, string body, string? param = null, string model = Llama2) =>
            Add(name, Fault.Invalid, contains, body, param, model);

        rows.AddRange(Transport(surface, """{"prompt":"hi"}"""));

        // Wrong field types.
        Invalid("prompt is a number", "'prompt' must be a string, got a number", """{"prompt":42}""", "prompt");
        Invalid("prompt is an array", "'prompt' must be a string, got an array", """{"prompt":["hi"]}""", "prompt");
        Invalid("prompt is an object", "'prompt' must be a string, got an object", """{"prompt":{"text":"hi"}}""", "prompt");
        Invalid("messages is an object", "'messages' must be an array, got an object", """{"messages":{"role":"user","content":"hi"}}""", "messages");
        Invalid("messages is a string", "'messages' must be an array, got a string", """{"messages":"hi"}""", "messages");
        Invalid("message is a string", "'messages[0]' must be an object with 'role' and 'content', got a string", """{"messages":["hi"]}""", "messages[0]");
        Invalid("message role is a number", "'messages[0].role' must be a string, got a number", """{"messages":[{"role":1,"content":"hi"}]}""", "messages[0].role");
        Invalid("message content is a number", "'messages[0].content' must be a string, got a number", """{"messages":[{"role":"user","content":7}]}""", "messages[0].content");
        Invalid("message content is OpenAI content parts", "'messages[0].content' must be a string, got an array", """{"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]}""", "messages[0].content");
        Invalid("stream is the string \"yes\"", "'stream' must be true or false (the strings \"true\" and \"false\" are accepted too), got the string \"yes\"", """{"prompt":"hi","stream":"yes"}""", "stream");
        Invalid("stream is 1", "'stream' must be true or false (the strings \"true\" and \"false\" are accepted too), got a number", """{"prompt":"hi","stream":1}""", "stream");
        Invalid("raw is the string \"True\"", "'raw' must be true or false (the strings \"true\" and \"false\" are accepted too), got the string \"True\"", """{"prompt":"hi","raw":"True"}""", "raw");
        Invalid("raw is an empty string", "'raw' must be true or false (the strings \"true\" and \"false\" are accepted too), got the string \"\"", """{"prompt":"hi","raw":""}""", "raw");
        Invalid("raw is an array", "'raw' must be true or false (the strings \"true\" and \"false\" are accepted too), got an array", """{"prompt":"hi","raw":[true]}""", "raw");
        Invalid("max_tokens is a string", "'max_tokens' must be an integer, got a string", """{"prompt":"hi","max_tokens":"10"}""", "max_tokens");
        Invalid("max_tokens is 1.5", "'max_tokens' must be an integer, got 1.5", """{"prompt":"hi","max_tokens":1.5}""", "max_tokens");
        Invalid("max_tokens is 1e400", "'max_tokens' must be an integer, got 1e400", """{"prompt":"hi","max_tokens":1e400}""", "max_tokens");
        Invalid("temperature is a string", "'temperature' must be a number, got a string", """{"prompt":"hi","temperature":"0.5"}""", "temperature");
        Invalid("temperature is a boolean", "'temperature' must be a number, got a boolean", """{"prompt":"hi","temperature":true}""", "temperature");
        Invalid("top_k is 2.5", "'top_k' must be an integer, got 2.5", """{"prompt":"hi","top_k":2.5}""", "top_k");
        Invalid("seed is a string", "'seed' must be an integer, got a string", """{"prompt":"hi","seed":"42"}""", "seed");
        Invalid("lora is a number", "'lora' must be a string, got a number", """{"prompt":"hi","lora":5}""", "lora", LoraModel);
        Invalid("lora is empty", "'lora' must not be empty", """{"prompt":"hi","lora":""}""", "lora", LoraModel);
        Invalid("tools is an object", "'tools' must be an array, got an object", $$$"""{"messages":{{{Hi}}},"tools":{"name":"f"}}""", "tools", Llama31);
        Invalid("tool is a string", "'tools[0]' must be an object, got a string", $$"""{"messages":{{Hi}},"tools":["f"]}""", "tools[0]", Llama31);
        Invalid("tool has no name", "'tools[0].name' is required", $$"""{"messages":{{Hi}},"tools":[{"description":"d"}]}""", "tools[0].name", Llama31);
        Invalid("tool name is a number", "'tools[0].name' must be a string, got a number", $$"""{"messages":{{Hi}},"tools":[{"name":5}]}""", "tools[0].name", Llama31);
        Invalid("tool function is a string", "'tools[0].function' must be an object, got a string", $$"""{"messages":{{Hi}},"tools":[{"type":"function","function":"f"}]}""", "tools[0].function", Llama31);
        Invalid("tool parameters is an array", "'tools[0].function.parameters' must be an object, got an array", $$$"""{"messages":{{{Hi}}},"tools":[{"type":"function","function":{"name":"f","parameters":[]}}]}""", "tools[0].function.parameters", Llama31);
        Invalid("functions is an object", "'functions' must be an array, got an object", $$$"""{"messages":{{{Hi}}},"functions":{"name":"f","code":"x"}}""", "functions", Llama31);
        Invalid("function has no code", "'functions[0]' requires 'name' and 'code' strings", $$"""{"messages":{{Hi}},"functions":[{"name":"f"}]}""", "functions[0]", Llama31);
        Invalid("function code is a number", "'functions[0].code' must be a string, got a number", $$"""{"messages":{{Hi}},"functions":[{"name":"f","code":1}]}""", "functions[0].code", Llama31);
        Invalid("response_format is a string", "'response_format' must be an object, got a string", """{"prompt":"hi","response_format":"json"}""", "response_format");
        Invalid("response_format.type is unknown", "'response_format.type' must be 'json_object' or 'json_schema', got 'xml'", """{"prompt":"hi","response_format":{"type":"xml"}}""", "response_format.type");
        Invalid("response_format.type is a number", "'response_format.type' must be a string, got a number", """{"prompt":"hi","response_format":{"type":1}}""", "response_format.type");

        // Prompt or messages: exactly one, non-empty, well-formed.
        Invalid("both prompt and messages", "Provide exactly one of 'prompt' or 'messages'", $$"""{"prompt":"hi","messages":{{Hi}}}""");
        Invalid("neither prompt nor messages", "Missing input: provide 'prompt'", """{"max_tokens":10}""");
        Invalid("empty object", "Missing input: provide 'prompt'", "{}");
        Invalid("prompt and messages both null", "Missing input: provide 'prompt'", """{"prompt":null,"messages":null}""");
        Invalid("empty prompt", "'prompt' must not be empty", """{"prompt":""}""", "prompt");
        Invalid("empty messages", "'messages' must contain at least one message", """{"messages":[]}""", "messages");
        Invalid("message without role", "'messages[0].role' is required", """{"messages":[{"content":"hi"}]}""", "messages[0].role");
        Invalid("message without content", "'messages[0].content' is required", """{"messages":[{"role":"user"}]}""", "messages[0].content");
        Invalid("second message without role", "'messages[1].role' is required", """{"messages":[{"role":"user","content":"hi"},{"content":"again"}]}""", "messages[1].role");
        Invalid("invalid role", "'messages[0].role' must be one of system, user, assistant, tool; got 'wizard'", """{"messages":[{"role":"wizard","content":"hi"}]}""", "messages[0].role");
        Invalid("OpenAI-only role developer", "got 'developer'", """{"messages":[{"role":"developer","content":"hi"}]}""", "messages[0].role");
        Invalid("role in the wrong case", "got 'User'", """{"messages":[{"role":"User","content":"hi"}]}""", "messages[0].role");
        Invalid("tools with prompt", "'tools' is only accepted with 'messages', not with 'prompt'", """{"prompt":"hi","tools":[{"name":"f"}]}""", "tools", Llama31);

        // Models.
        Add("unknown model", Fault.ModelNotFound, "No such model @cf/meta/nope or task", """{"prompt":"hi"}""", model: "@cf/meta/nope");
        Add("unknown model, percent-encoded", Fault.ModelNotFound, "No such model @cf/meta/nope or task", """{"prompt":"hi"}""", model: "%40cf%2Fmeta%2Fnope");
        Add("model id in the wrong case", Fault.ModelNotFound, "No such model @cf/meta/LLAMA-2-7b-chat-fp16 or task", """{"prompt":"hi"}""", model: "@cf/meta/LLAMA-2-7b-chat-fp16");
        Add("model id with a trailing slash", Fault.ModelNotFound, $"No such model {Llama2}/ or task", """{"prompt":"hi"}""", model: Llama2 + "/");
        Add("no model in the path", Fault.ModelNotFound, "The path names no model", """{"prompt":"hi"}""", model: "");

        // Ranges from the catalog.
        Invalid("temperature 5.1", "'temperature' must be between 0 and 5, got 5.1", """{"prompt":"hi","temperature":5.1}""", "temperature");
        Invalid("temperature -0.1", "'temperature' must be between 0 and 5, got -0.1", """{"prompt":"hi","temperature":-0.1}""", "temperature");
        Invalid("top_p 0 on llama-2 (min 0.001)", "'top_p' must be between 0.001 and 1, got 0", """{"prompt":"hi","top_p":0}""", "top_p");
        Invalid("top_p 1.5 on llama-2", "'top_p' must be between 0.001 and 1, got 1.5", """{"prompt":"hi","top_p":1.5}""", "top_p");
        Invalid("top_p 2.1 on llama-3.1 (max 2)", "'top_p' must be between 0 and 2, got 2.1", """{"prompt":"hi","top_p":2.1}""", "top_p", Llama31);
        Invalid("top_k 0", "'top_k' must be between 1 and 50, got 0", """{"prompt":"hi","top_k":0}""", "top_k");
        Invalid("top_k 51", "'top_k' must be between 1 and 50, got 51", """{"prompt":"hi","top_k":51}""", "top_k");
        Invalid("seed 0", "'seed' must be between 1 and 9999999999, got 0", """{"prompt":"hi","seed":0}""", "seed");
        Invalid("seed 10000000000", "'seed' must be between 1 and 9999999999, got 10000000000", """{"prompt":"hi","seed":10000000000}""", "seed");
        Invalid("repetition_penalty 2.5", "'repetition_penalty' must be between 0 and 2, got 2.5", """{"prompt":"hi","repetition_penalty":2.5}""", "repetition_penalty");
        Invalid("repetition_penalty -0.5", "'repetition_penalty' must be between 0 and 2, got -0.5", """{"prompt":"hi","repetition_penalty":-0.5}""", "repetition_penalty");
        Invalid("frequency_penalty -2.5 on llama-2", "'frequency_penalty' must be between -2 and 2, got -2.5", """{"prompt":"hi","frequency_penalty":-2.5}""", "frequency_penalty");
        Invalid("frequency_penalty -1 on llama-3.1 (min 0)", "'frequency_penalty' must be between 0 and 2, got -1", """{"prompt":"hi","frequency_penalty":-1}""", "frequency_penalty", Llama31);
        Invalid("presence_penalty 2.5 on llama-2", "'presence_penalty' must be between -2 and 2, got 2.5", """{"prompt":"hi","presence_penalty":2.5}""", "presence_penalty");
        Invalid("presence_penalty -1 on llama-3.1 (min 0)", "'presence_penalty' must be between 0 and 2, got -1", """{"prompt":"hi","presence_penalty":-1}""", "presence_penalty", Llama31);
        Invalid("max_tokens 0", "'max_tokens' must be between 1 and 2500, got 0", """{"prompt":"hi","max_tokens":0}""", "max_tokens");
        Invalid("max_tokens -1", "'max_tokens' must be between 1 and 2500, got -1", """{"prompt":"hi","max_tokens":-1}""", "max_tokens");
        Invalid("max_tokens 2501 on llama-2-fp16 (limit 2500)", "'max_tokens' must be between 1 and 2500, got 2501", """{"prompt":"hi","max_tokens":2501}""", "max_tokens");
        Invalid("max_tokens 1801 on llama-2-int8 (limit 1800)", "'max_tokens' must be between 1 and 1800, got 1801", """{"prompt":"hi","max_tokens":1801}""", "max_tokens", Llama2Int8);
        Invalid("prompt of 131073 chars on llama-3.1", $"'prompt' is 131073 characters; {Llama31} accepts at most 131072", $$"""{"prompt":"{{TooLongText}}"}""", "prompt", Llama31);
        Invalid("message of 131073 chars on llama-3.1", $"'messages[0].content' is 131073 characters; {Llama31} accepts at most 131072", $$"""{"messages":[{"role":"user","content":"{{TooLongText}}"}]}""", "messages[0].content", Llama31);

        // Capabilities the model lacks.
        Add("lora on a model without LoRA", Fault.LoraUnsupported, $"The model {Llama2} does not support LoRa inference", """{"prompt":"hi","lora":"my-adapter"}""", "lora");
        Invalid("tools on a model without tools", $"The model {Llama2} does not support tools or functions", $$"""{"messages":{{Hi}},"tools":[{"name":"f"}]}""", "tools");
        Invalid("functions on a model without tools", $"The model {Llama2} does not support tools or functions", $$"""{"messages":{{Hi}},"functions":[{"name":"f","code":"x"}]}""", "functions");
        return rows;
    }

    public static IReadOnlyList<BadInputCase> OpenAiChat()
    {
        const Surface s = Surface.OpenAiChat;
        var rows = new List<BadInputCase>();
        void Add(string name, Fault fault, string contains, string body, string? param) =>
            rows.Add(new BadInputCase(name, s, fault, contains) { Body = Utf8(body), Param = param });
        void Invalid(string name, string contains, string extra, string? param, string model = Llama2, string messages = Hi) =>
            Add(name, Fault.Invalid, contains, $$"""{"model":"{{model}}","messages":{{messages}}{{extra}}}""", param);

        rows.AddRange(Transport(s, $$"""{"model":"{{Llama2}}","messages":{{Hi}}}"""));
        rows.AddRange(ModelRows(s, $""" "messages":{Hi}"""));

        Add("messages missing", Fault.Invalid, "Missing required parameter: 'messages'", $$"""{"model":"{{Llama2}}"}""", "messages");
        Add("prompt instead of messages", Fault.Invalid, "Missing required parameter: 'messages'", $$"""{"model":"{{Llama2}}","prompt":"hi"}""", "messages");
        Invalid("messages is an object", "'messages' must be an array, got an object", "", "messages", messages: """{"role":"user","content":"hi"}""");
        Invalid("messages is a string", "'messages' must be an array, got a string", "", "messages", messages: "\"hi\"");
        Invalid("empty messages", "'messages' must contain at least one message", "", "messages", messages: "[]");
        Invalid("message is a string", "'messages[0]' must be an object, got a string", "", "messages[0]", messages: """["hi"]""");
        Invalid("message without role", "'messages[0].role' is required and must be a string", "", "messages[0].role", messages: """[{"content":"hi"}]""");
        Invalid("message role is a number", "'messages[0].role' is required and must be a string", "", "messages[0].role", messages: """[{"role":1,"content":"hi"}]""");
        Invalid("invalid role", "Invalid value: 'wizard'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'", "", "messages[0].role", messages: """[{"role":"wizard","content":"hi"}]""");
        Invalid("message without content", "'messages[0].content' is required", "", "messages[0].content", messages: """[{"role":"user"}]""");
        Invalid("message content is a number", "'messages[0].content' must be a string or an array of content parts, got a number", "", "messages[0].content", messages: """[{"role":"user","content":7}]""");
        Invalid("message content is an object", "'messages[0].content' must be a string or an array of content parts, got an object", "", "messages[0].content", messages: """[{"role":"user","content":{"type":"text","text":"hi"}}]""");
        Invalid("content part image_url", "'messages[0].content[0]' must be a text part", "", "messages[0].content[0]", messages: """[{"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.com/a.png"}}]}]""");
        Invalid("content part image_url after text", "'messages[0].content[1]' must be a text part", "", "messages[0].content[1]", messages: """[{"role":"user","content":[{"type":"text","text":"look"},{"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]""");
        Invalid("content part input_audio", "'messages[0].content[0]' must be a text part", "", "messages[0].content[0]", messages: """[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AAAA","format":"wav"}}]}]""");
        Invalid("content part is a string", "'messages[0].content[0]' must be a text part", "", "messages[0].content[0]", messages: """[{"role":"user","content":["hi"]}]""");
        Invalid("content part type is a number", "'messages[0].content[0].type' must be a string, got a number", "", "messages[0].content[0].type", messages: """[{"role":"user","content":[{"type":1}]}]""");
        Invalid("text part without text", "'messages[0].content[0].text' is required", "", "messages[0].content[0].text", messages: """[{"role":"user","content":[{"type":"text"}]}]""");
        Invalid("text part text is a number", "'messages[0].content[0].text' must be a string, got a number", "", "messages[0].content[0].text", messages: """[{"role":"user","content":[{"type":"text","text":5}]}]""");
        Invalid("message of 131073 chars on llama-3.1", $"'messages[0].content' is 131073 characters; {Llama31} accepts at most 131072", "", "messages[0].content", Llama31, $$"""[{"role":"user","content":"{{TooLongText}}"}]""");
        Invalid("tools is an object", "'tools' must be an array, got an object", ""","tools":{"type":"function"}""", "tools", Llama31);
        Invalid("tools on a model without tools", $"The model {Llama2} does not support tools", ""","tools":[{"type":"function","function":{"name":"f"}}]""", "tools");
        Invalid("stream_options.include_usage is a string", "'stream_options.include_usage' must be a boolean, got a string", ""","stream":true,"stream_options":{"include_usage":"yes"}""", "stream_options.include_usage");
        Invalid("response_format is a string", "'response_format' must be an object, got a string", ""","response_format":"json_object" """, "response_format");
        Parameters((name, contains, extra, param, model) => Invalid(name, contains, extra, param, model));
        return rows;
    }

    public static IReadOnlyList<BadInputCase> OpenAiCompletions()
    {
        const Surface s = Surface.OpenAiCompletions;
        var rows = new List<BadInputCase>();
        void Add(string name, string contains, string body, string? param) =>
            rows.Add(new BadInputCase(name, s, Fault.Invalid, contains) { Body = Utf8(body), Param = param });
        void Invalid(string name, string contains, string extra, string? param, string model = Llama2, string prompt = "\"hi\"") =>
            Add(name, contains, $$"""{"model":"{{model}}","prompt":{{prompt}}{{extra}}}""", param);

        rows.AddRange(Transport(s, $$"""{"model":"{{Llama2}}","prompt":"hi"}"""));
        rows.AddRange(ModelRows(s, """ "prompt":"hi" """));

        Add("prompt missing", "Missing required parameter: 'prompt'", $$"""{"model":"{{Llama2}}"}""", "prompt");
        Add("messages instead of prompt", "Missing required parameter: 'prompt'", $$"""{"model":"{{Llama2}}","messages":{{Hi}}}""", "prompt");
        Invalid("prompt is a number", "'prompt' must be a string, got a number", "", "prompt", prompt: "42");
        Invalid("prompt is an object", "'prompt' must be a string, got an object", "", "prompt", prompt: """{"text":"hi"}""");
        Invalid("empty prompt", "'prompt' must not be empty", "", "prompt", prompt: "\"\"");
        Invalid("prompt array with an empty string", "'prompt' must not be empty", "", "prompt", prompt: """[""]""");
        Invalid("prompt batch of two", "'prompt' arrays must hold exactly one string", "", "prompt", prompt: """["a","b"]""");
        Invalid("prompt of token ids", "'prompt' arrays must hold exactly one string", "", "prompt", prompt: "[1,2,3]");
        Invalid("empty prompt array", "'prompt' arrays must hold exactly one string", "", "prompt", prompt: "[]");
        Invalid("prompt of 131073 chars on llama-3.1", $"'prompt' is 131073 characters; {Llama31} accepts at most 131072", "", "prompt", Llama31, $"\"{TooLongText}\"");
        Invalid("tools on a model without tools", $"The model {Llama2} does not support tools", ""","tools":[{"type":"function","function":{"name":"f"}}]""", "tools");
        Parameters((name, contains, extra, param, model) => Invalid(name, contains, extra, param, model));
        return rows;
    }

    /// <summary>Unknown routes and wrong methods: the envelope follows the path (<c>/v1/...</c> is OpenAI).</summary>
    public static IReadOnlyList<BadInputCase> Routing()
    {
        var rows = new List<BadInputCase>();
        void Add(string method, string path, Fault fault, string contains, bool openAi = false, string? allow = null, bool body = false) =>
            rows.Add(new BadInputCase($"{method} /{path}", openAi ? Surface.OpenAiChat : Surface.WorkersAiShort, fault, contains)
            {
                Method = method,
                PathOverride = path,
                Allow = allow,
                Body = body ? Utf8("""{"prompt":"hi"}""") : null,
                Param = fault == Fault.ModelNotFound && openAi ? "model" : null,
            });

        Add("GET", "nope", Fault.RouteNotFound, "No route for that URI: GET /nope");
        Add("POST", "nope", Fault.RouteNotFound, "No route for that URI: POST /nope", body: true);
        Add("GET", "v1/nope", Fault.RouteNotFound, "No route for that URI: GET /v1/nope", openAi: true);
        Add("POST", "v1/nope", Fault.RouteNotFound, "No route for that URI: POST /v1/nope", openAi: true, body: true);
        Add("POST", "v1/chat", Fault.RouteNotFound, "No route for that URI: POST /v1/chat", openAi: true, body: true);
        Add("GET", "ai/nothing", Fault.RouteNotFound, "No route for that URI: GET /ai/nothing");
        Add("POST", "ai/nothing", Fault.RouteNotFound, "No route for that URI: POST /ai/nothing", body: true);
        Add("POST", "client/v4/accounts/acc/ai/nothing", Fault.RouteNotFound, "No route for that URI: POST /client/v4/accounts/acc/ai/nothing", body: true);
        Add("POST", $"client/v4/accounts//ai/run/{Llama2}", Fault.RouteNotFound, "No route for that URI", body: true);
        Add("POST", "ai/run", Fault.ModelNotFound, "The path names no model", body: true);
        Add("POST", "client/v4/accounts/acc/ai/run", Fault.ModelNotFound, "The path names no model", body: true);
        Add("GET", $"ai/run/{Llama2}", Fault.MethodNotAllowed, $"Method GET is not allowed on /ai/run/{Llama2}; use POST", allow: "POST");
        Add("PUT", $"ai/run/{Llama2}", Fault.MethodNotAllowed, $"Method PUT is not allowed on /ai/run/{Llama2}; use POST", allow: "POST", body: true);
        Add("DELETE", $"ai/run/{Llama2}", Fault.MethodNotAllowed, "Method DELETE is not allowed", allow: "POST");
        Add("GET", $"client/v4/accounts/acc/ai/run/{Llama2}", Fault.MethodNotAllowed, "Method GET is not allowed on /client/v4/accounts/acc/ai/run/", allow: "POST");
        Add("GET", "v1/chat/completions", Fault.MethodNotAllowed, "Method GET is not allowed on /v1/chat/completions; use POST", openAi: true, allow: "POST");
        Add("DELETE", "v1/chat/completions", Fault.MethodNotAllowed, "Method DELETE is not allowed on /v1/chat/completions; use POST", openAi: true, allow: "POST");
        Add("GET", "v1/completions", Fault.MethodNotAllowed, "Method GET is not allowed on /v1/completions; use POST", openAi: true, allow: "POST");
        Add("DELETE", "v1/completions", Fault.MethodNotAllowed, "Method DELETE is not allowed on /v1/completions; use POST", openAi: true, allow: "POST");
        Add("PATCH", "v1/completions", Fault.MethodNotAllowed, "Method PATCH is not allowed", openAi: true, allow: "POST", body: true);
        Add("POST", "v1/models", Fault.MethodNotAllowed, "Method POST is not allowed on /v1/models; use GET", openAi: true, allow: "GET", body: true);
        Add("DELETE", $"v1/models/{Llama2}", Fault.MethodNotAllowed, "; use GET", openAi: true, allow: "GET");
        Add("GET", "v1/models/@cf/meta/nope", Fault.ModelNotFound, "The model '@cf/meta/nope' does not exist", openAi: true);
        Add("GET", "v1/models/%40cf%2Fmeta%2Fnope", Fault.ModelNotFound, "The model '@cf/meta/nope' does not exist", openAi: true);
        return rows;
    }

    /// <summary>Requests at the edges of what is valid; each must succeed and reach the upstream once.</summary>
    public static IReadOnlyList<BadInputCase> Accepted()
    {
        var rows = new List<BadInputCase>();
        void Add(string name, Surface surface, string body, string model = Llama2, string? path = null, string? contentType = "application/json", bool limited = false) =>
            rows.Add(new BadInputCase(name, surface, Fault.Invalid, "")
            {
                Body = Utf8(body),
                Model = model,
                PathOverride = path,
                ContentType = contentType,
                Limited = limited,
            });

        const string prompt = """{"prompt":"hi"}""";
        Add("known model, percent-encoded (short path)", Surface.WorkersAiShort, prompt, path: "ai/run/%40cf%2Fmeta%2Fllama-2-7b-chat-fp16");
        Add("known model, percent-encoded (REST path)", Surface.WorkersAiRest, prompt, path: "client/v4/accounts/acc/ai/run/%40cf%2Fmeta%2Fllama-2-7b-chat-fp16");
        Add("known model, slashes encoded only", Surface.WorkersAiShort, prompt, path: "ai/run/@cf%2Fmeta%2Fllama-2-7b-chat-fp16");
        Add("curl -d content type (form) on Workers AI", Surface.WorkersAiShort, prompt, contentType: "application/x-www-form-urlencoded");
        Add("fetch's string-body content type (text/plain) on Workers AI", Surface.WorkersAiRest, prompt, contentType: "text/plain;charset=UTF-8");
        Add("no content type on Workers AI", Surface.WorkersAiRest, prompt, contentType: null);
        Add("charset=utf-8", Surface.WorkersAiShort, prompt, contentType: "application/json; charset=utf-8");
        Add("charset=UTF8", Surface.WorkersAiShort, prompt, contentType: "application/json; charset=UTF8");
        Add("quoted charset", Surface.OpenAiChat, $$"""{"model":"{{Llama2}}","messages":{{Hi}}}""", contentType: "application/json; charset=\"utf-8\"");
        Add("+json media type", Surface.WorkersAiShort, prompt, contentType: "application/vnd.api+json");
        Add("leading UTF-8 byte order mark", Surface.WorkersAiShort, "\uFEFF" + prompt);
        Add("null fields are absent", Surface.WorkersAiShort, """{"prompt":"hi","temperature":null,"messages":null,"lora":null}""");
        Add("top_p 0 on llama-3.1 (min 0)", Surface.WorkersAiShort, """{"prompt":"hi","top_p":0}""", Llama31);
        Add("frequency_penalty -2 on llama-2", Surface.WorkersAiShort, """{"prompt":"hi","frequency_penalty":-2}""");
        Add("edges of every range", Surface.WorkersAiShort, """{"prompt":"hi","temperature":5,"top_p":0.001,"top_k":50,"seed":9999999999,"repetition_penalty":2,"presence_penalty":-2,"max_tokens":2500}""");
        Add("low edges of every range", Surface.WorkersAiRest, """{"prompt":"hi","temperature":0,"top_p":1,"top_k":1,"seed":1,"repetition_penalty":0,"frequency_penalty":2,"max_tokens":1}""");
        Add("max_tokens 5.0 is an integer", Surface.WorkersAiShort, """{"prompt":"hi","max_tokens":5.0}""");
        Add("raw as the string \"true\" (the documentation's curl example)", Surface.WorkersAiRest, """{"prompt":"hi","raw":"true"}""");
        Add("stream and raw as the string \"false\"", Surface.WorkersAiShort, """{"prompt":"hi","stream":"false","raw":"false"}""");
        Add("prompt of exactly 131072 chars on llama-3.1", Surface.WorkersAiShort, $$"""{"prompt":"{{new string('x', 131_072)}}"}""", Llama31);
        Add("lora on a LoRA model", Surface.WorkersAiShort, """{"prompt":"hi","lora":"my-adapter"}""", LoraModel);
        Add("tools on llama-3.1", Surface.WorkersAiShort, $$$"""{"messages":{{{Hi}}},"tools":[{"name":"f","parameters":{"type":"object"}}]}""", Llama31);
        Add("body of exactly the limit", Surface.WorkersAiShort, Padded(prompt, SmallBodyLimit), limited: true);
        Add("no content type on OpenAI", Surface.OpenAiChat, $$"""{"model":"{{Llama2}}","messages":{{Hi}}}""", contentType: null);
        Add("top_p 0 on llama-3.1 (OpenAI)", Surface.OpenAiChat, $$"""{"model":"{{Llama31}}","messages":{{Hi}},"top_p":0}""");
        Add("frequency_penalty -1 on llama-2 (OpenAI)", Surface.OpenAiChat, $$"""{"model":"{{Llama2}}","messages":{{Hi}},"frequency_penalty":-1}""");
        Add("text content parts", Surface.OpenAiChat, $$"""{"model":"{{Llama2}}","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}]}""");
        Add("n 1 and 4 stop strings", Surface.OpenAiChat, $$"""{"model":"{{Llama2}}","messages":{{Hi}},"n":1,"stop":["a","b","c","d"],"max_completion_tokens":2500}""");
        Add("stop as a string, unknown fields kept", Surface.OpenAiCompletions, $$$"""{"model":"{{{Llama2}}}","prompt":"hi","stop":"\n","user":"u-1","logit_bias":{}}""");
        Add("prompt as a one-string array", Surface.OpenAiCompletions, $$"""{"model":"{{Llama2}}","prompt":["hi"]}""");
        Add("body of exactly the limit (OpenAI)", Surface.OpenAiCompletions, Padded($$"""{"model":"{{Llama2}}","prompt":"hi"}""", SmallBodyLimit), limited: true);
        return rows;
    }

    /// <summary>Faults of the body itself (syntax, encoding, media type, size) that every surface reports alike.</summary>
    private static IEnumerable<BadInputCase> Transport(Surface s, string valid)
    {
        BadInputCase Row(string name, Fault fault, string contains, byte[] body) => new(name, s, fault, contains) { Body = body };
        var deep = "{\"x\":" + new string('[', 100) + new string(']', 100) + "," + valid[1..];

        yield return Row("malformed JSON: truncated", Fault.MalformedJson, "Request body is not valid JSON", Utf8(valid[..^1]));
        yield return Row("malformed JSON: cut inside a string", Fault.MalformedJson, "Request body is not valid JSON", Utf8(valid[..(valid.IndexOf(':', StringComparison.Ordinal) + 3)]));
        yield return Row("malformed JSON: trailing garbage", Fault.MalformedJson, "Request body is not valid JSON", Utf8(valid + " garbage"));
        yield return Row("malformed JSON: two objects", Fault.MalformedJson, "Request body is not valid JSON", Utf8(valid + valid));
        yield return Row("malformed JSON: single quotes", Fault.MalformedJson, "Request body is not valid JSON", Utf8(valid.Replace('"', '\'')));
        yield return Row("malformed JSON: unquoted keys", Fault.MalformedJson, "Request body is not valid JSON", Utf8("{prompt: \"hi\"}"));
        yield return Row("malformed JSON: trailing comma", Fault.MalformedJson, "Request body is not valid JSON", Utf8(valid[..^1] + ",}"));
        yield return Row("malformed JSON: comment", Fault.MalformedJson, "Request body is not valid JSON", Utf8(valid[..^1] + " /* note */}"));
        yield return Row("malformed JSON: NaN", Fault.MalformedJson, "Request body is not valid JSON", Utf8(valid[..^1] + ",\"temperature\":NaN}"));
        yield return Row("malformed JSON: raw control character in a string", Fault.MalformedJson, "Request body is not valid JSON", Utf8(valid.Replace("hi", "h\u0001i", StringComparison.Ordinal)));
        yield return Row("duplicate key at the root", Fault.MalformedJson, "Duplicate property", Utf8(valid[..^1] + "," + valid[1..]));
        yield return Row("duplicate key in a nested object", Fault.MalformedJson, "Duplicate property 'a'", Utf8(valid[..^1] + ",\"x\":{\"a\":1,\"a\":2}}"));
        yield return Row("malformed JSON: nested deeper than 64", Fault.MalformedJson, "maximum configured depth of 64", Utf8(deep));
        yield return Row("unpaired surrogate escape", Fault.MalformedJson, "unpaired UTF-16 surrogate escape", Utf8(valid.Replace("hi", "\\ud800", StringComparison.Ordinal)));
        yield return Row("unpaired low surrogate escape in a key", Fault.MalformedJson, "unpaired UTF-16 surrogate escape", Utf8(valid[..^1] + ",\"x\\udc00\":1}"));
        yield return Row("root is an array", Fault.Invalid, "Request body must be a JSON object, got an array", Utf8("[" + valid + "]"));
        yield return Row("root is an empty array", Fault.Invalid, "Request body must be a JSON object, got an array", Utf8("[]"));
        yield return Row("root is a string", Fault.Invalid, "Request body must be a JSON object, got a string", Utf8("\"hi\""));
        yield return Row("root is a number", Fault.Invalid, "Request body must be a JSON object, got a number", Utf8("42"));
        yield return Row("root is a boolean", Fault.Invalid, "Request body must be a JSON object, got a boolean", Utf8("true"));
        yield return Row("root is null", Fault.Invalid, "Request body must be a JSON object, got null", Utf8("null"));
        yield return Row("empty body", Fault.MalformedJson, "Request body is empty", []);
        yield return Row("whitespace-only body", Fault.MalformedJson, "Request body is not valid JSON", Utf8("  \r\n "));
        var invalidUtf8 = Utf8(valid.Replace("hi", "h\u00ffi", StringComparison.Ordinal));
        var at = Array.IndexOf(invalidUtf8, (byte)0xC3);
        invalidUtf8 = [.. invalidUtf8[..at], 0xFF, .. invalidUtf8[(at + 2)..]];
        yield return Row("invalid UTF-8 byte in a string", Fault.MalformedJson, "Request body is not valid UTF-8", invalidUtf8);
        yield return Row("overlong UTF-8 in a string", Fault.MalformedJson, "Request body is not valid UTF-8", [.. invalidUtf8[..at], 0xC0, 0xAF, .. invalidUtf8[(at + 1)..]]);
        yield return Row("UTF-16 body", Fault.MalformedJson, "Request body is not valid", Encoding.Unicode.GetBytes(valid));
        foreach (var type in new[] { "multipart/form-data; boundary=xyz", "application/xml", "text/json", "text/html", "not a media type" })
        {
            yield return Row($"content type {type}", Fault.MediaType, $"Unsupported Content-Type '{type}'; send 'application/json'", Utf8(valid)) with { ContentType = type };
        }
        foreach (var charset in new[] { "iso-8859-1", "utf-16" })
        {
            yield return Row($"charset {charset}", Fault.MediaType, $"Unsupported charset '{charset}'; JSON bodies must be UTF-8", Utf8(valid)) with { ContentType = $"application/json; charset={charset}" };
        }
        if (s is Surface.OpenAiChat or Surface.OpenAiCompletions)
        {
            yield return Row("form content type on OpenAI", Fault.MediaType, "Unsupported Content-Type 'application/x-www-form-urlencoded'", Utf8(valid)) with { ContentType = "application/x-www-form-urlencoded" };
            yield return Row("text/plain on OpenAI", Fault.MediaType, "Unsupported Content-Type 'text/plain;charset=UTF-8'", Utf8(valid)) with { ContentType = "text/plain;charset=UTF-8" };
        }
        var limit = $"the body limit is {SmallBodyLimit} bytes";
        yield return Row("oversized body with Content-Length", Fault.TooLarge, limit, Utf8(Padded(valid, 2 * SmallBodyLimit))) with { Limited = true };
        yield return Row("body one byte over the limit", Fault.TooLarge, limit, Utf8(Padded(valid, SmallBodyLimit + 1))) with { Limited = true };
        yield return Row("oversized chunked body without length", Fault.TooLarge, limit, Utf8(Padded(valid, 2 * SmallBodyLimit))) with { Limited = true, Chunked = true };
        yield return Row("chunked body one byte over the limit", Fault.TooLarge, limit, Utf8(Padded(valid, SmallBodyLimit + 1))) with { Limited = true, Chunked = true };
    }

    /// <summary>Wrong model fields on the OpenAI surfaces (the model is in the body).</summary>
    private static IEnumerable<BadInputCase> ModelRows(Surface s, string rest)
    {
        BadInputCase Row(string name, Fault fault, string contains, string body) => new(name, s, fault, contains) { Body = Utf8(body), Param = "model" };
        yield return Row("model missing", Fault.Invalid, "you must provide a model parameter", $"{{{rest}}}");
        yield return Row("model null", Fault.Invalid, "you must provide a model parameter", $"{{\"model\":null,{rest}}}");
        yield return Row("model is a number", Fault.Invalid, "'model' must be a string, got a number", $"{{\"model\":7,{rest}}}");
        yield return Row("model is an object", Fault.Invalid, "'model' must be a string, got an object", $"{{\"model\":{{\"id\":\"{Llama2}\"}},{rest}}}");
        yield return Row("model is empty", Fault.Invalid, "'model' must not be empty", $"{{\"model\":\"\",{rest}}}");
        yield return Row("unknown model", Fault.ModelNotFound, "The model '@cf/meta/nope' does not exist", $"{{\"model\":\"@cf/meta/nope\",{rest}}}");
        // Body model ids are JSON strings, never URL-decoded.
        yield return Row("percent-encoded model in the body", Fault.ModelNotFound, "The model '%40cf%2Fmeta%2Fllama-2-7b-chat-fp16' does not exist", $"{{\"model\":\"%40cf%2Fmeta%2Fllama-2-7b-chat-fp16\",{rest}}}");
    }

    /// <summary>Generation parameters shared by both OpenAI endpoints (OpenAI ranges narrowed by the catalog).</summary>
    private static void Parameters(Action<string, string, string, string?, string> invalid)
    {
        void Add(string name, string contains, string extra, string param, string model = Llama2) => invalid(name, contains, extra, param, model);

        Add("stream is the string \"true\"", "'stream' must be a boolean, got a string", ""","stream":"true" """, "stream");
        Add("stream_options without stream", "'stream_options' is only allowed when 'stream' is true", ""","stream_options":{"include_usage":true}""", "stream_options");
        Add("stream_options with stream false", "'stream_options' is only allowed when 'stream' is true", ""","stream":false,"stream_options":{"include_usage":true}""", "stream_options");
        Add("stream_options is a string", "'stream_options' must be an object, got a string", ""","stream":true,"stream_options":"usage" """, "stream_options");
        Add("n 2", "'n' greater than 1 is not supported", ""","n":2""", "n");
        Add("n 0", "'n' must be between 1 and 128, got 0", ""","n":0""", "n");
        Add("n is a string", "'n' must be an integer, got a string", ""","n":"1" """, "n");
        Add("stop with 5 entries", "'stop' must be a string or an array of up to 4 strings", ""","stop":["a","b","c","d","e"]""", "stop");
        Add("stop is a number", "'stop' must be a string or an array of up to 4 strings", ""","stop":5""", "stop");
        Add("stop holds a number", "'stop' must be a string or an array of up to 4 strings", ""","stop":["a",1]""", "stop");
        Add("max_tokens is a string", "'max_tokens' must be an integer, got a string", ""","max_tokens":"10" """, "max_tokens");
        Add("max_tokens is 1.5", "'max_tokens' must be an integer, got 1.5", ""","max_tokens":1.5""", "max_tokens");
        Add("max_tokens 0", "'max_tokens' must be between 1 and 2500, got 0", ""","max_tokens":0""", "max_tokens");
        Add("max_tokens 2501 on llama-2-fp16", "'max_tokens' must be between 1 and 2500, got 2501", ""","max_tokens":2501""", "max_tokens");
        Add("max_completion_tokens 2501", "'max_completion_tokens' must be between 1 and 2500, got 2501", ""","max_completion_tokens":2501""", "max_completion_tokens");
        Add("temperature is a string", "'temperature' must be a number, got a string", ""","temperature":"0.5" """, "temperature");
        Add("temperature 2.1 (OpenAI max 2)", "'temperature' must be between 0 and 2, got 2.1", ""","temperature":2.1""", "temperature");
        Add("temperature 5.1", "'temperature' must be between 0 and 2, got 5.1", ""","temperature":5.1""", "temperature");
        Add("temperature -0.1", "'temperature' must be between 0 and 2, got -0.1", ""","temperature":-0.1""", "temperature");
        Add("top_p 0 on llama-2 (min 0.001)", "'top_p' must be between 0.001 and 1, got 0", ""","top_p":0""", "top_p");
        Add("top_p 1.5 on llama-3.1 (OpenAI max 1)", "'top_p' must be between 0 and 1, got 1.5", ""","top_p":1.5""", "top_p", Llama31);
        Add("top_k 0", "'top_k' must be between 1 and 50, got 0", ""","top_k":0""", "top_k");
        Add("top_k 51", "'top_k' must be between 1 and 50, got 51", ""","top_k":51""", "top_k");
        Add("seed is a string", "'seed' must be an integer, got a string", ""","seed":"1" """, "seed");
        Add("seed is 1.5", "'seed' must be an integer, got 1.5", ""","seed":1.5""", "seed");
        Add("repetition_penalty 2.5", "'repetition_penalty' must be between 0 and 2, got 2.5", ""","repetition_penalty":2.5""", "repetition_penalty");
        Add("frequency_penalty -2.5 on llama-2", "'frequency_penalty' must be between -2 and 2, got -2.5", ""","frequency_penalty":-2.5""", "frequency_penalty");
        Add("frequency_penalty -1 on llama-3.1 (min 0)", "'frequency_penalty' must be between 0 and 2, got -1", ""","frequency_penalty":-1""", "frequency_penalty", Llama31);
        Add("presence_penalty 2.5 on llama-2", "'presence_penalty' must be between -2 and 2, got 2.5", ""","presence_penalty":2.5""", "presence_penalty");
        Add("presence_penalty -1 on llama-3.1 (min 0)", "'presence_penalty' must be between 0 and 2, got -1", ""","presence_penalty":-1""", "presence_penalty", Llama31);
    }

    /// <summary>The valid body grown to exactly <paramref name="size"/> bytes with an ignored padding field.</summary>
    private static string Padded(string valid, int size)
    {
        var head = "{\"pad\":\"";
        var tail = "\"," + valid[1..];
        return head + new string('p', size - head.Length - tail.Length) + tail;
    }
}
