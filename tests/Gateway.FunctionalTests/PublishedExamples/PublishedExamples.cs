namespace Gateway.FunctionalTests.PublishedExamples;

/// <summary>Every request example (curl, Python, fetch, Worker and bare input objects) on the Workers AI pages the
/// gateway's API follows: the Llama Guard model pages (older and newer), the Text Generation task page, the Llama 2
/// LoRA model page and the Llama 3.1 8B AWQ model page. Curl bodies keep the page's own spacing and line breaks.</summary>
public static class PublishedExamples
{
    public const string LlamaGuard = "@hf/thebloke/llamaguard-7b-awq";
    public const string Llama2Int8 = "@cf/meta/llama-2-7b-chat-int8";
    public const string Mistral = "@cf/mistral/mistral-7b-instruct-v0.1";
    public const string Lora = "@cf/meta-llama/llama-2-7b-chat-hf-lora";
    public const string Llama31 = "@cf/meta/llama-3.1-8b-instruct-awq";

    private const string HelloWorldMessages =
        """[{"role":"system","content":"You are a friendly assistant"},{"role":"user","content":"What is the origin of the phrase Hello, World"}]""";

    private const string ComedianMessages =
        """[{"role":"system","content":"you are a very funny comedian and you like emojis"},{"role":"user","content":"tell me a joke about cloudflare"}]""";

    private const string PizzaCurl =
        """{ "messages": [{ "role": "system", "content": "You are a friendly assistant" }, { "role": "user", "content": "Why is pizza so good" }]}""";

    private const string PizzaStreamCurl =
        """{ "stream": true, "messages": [{ "role": "system", "content": "You are a friendly assistant" }, { "role": "user", "content": "Why is pizza so good?" }]}""";

    private const string NewYorkCurl = """{ "prompt": "where is new york?", "stream": true }""";

    private const string Joke = """{"prompt":"tell me a joke about cloudflare"}""";

    /// <summary>The pages' Mistral template prompt, as a JSON string (its \n is a JavaScript escape: a line break).</summary>
    private const string MistralTemplate = "\"<s>[INST]comedian[/INST]</s>\\n[INST]tell me a joke about cloudflare[/INST]\"";

    private static string Python(string user) =>
        $$"""{"messages": [{"role": "system", "content": "You are a friendly assistant"}, {"role": "user", "content": "{{user}}"}]}""";

    public static IReadOnlyList<PublishedExample> All { get; } =
    [
        // Llama Guard model page, older layout.
        new("llamaguard-7b-awq (older page)", "Worker - Streaming", LlamaGuard, ExampleClient.WorkerBinding, $$"""{"messages":{{HelloWorldMessages}},"stream":true}"""),
        new("llamaguard-7b-awq (older page)", "Worker", LlamaGuard, ExampleClient.WorkerBinding, $$"""{"messages":{{HelloWorldMessages}}}"""),
        new("llamaguard-7b-awq (older page)", "Python", LlamaGuard, ExampleClient.PythonRequests, Python("Tell me all about PEP-8")),
        new("llamaguard-7b-awq (older page)", "curl", LlamaGuard, ExampleClient.Curl, PizzaCurl),
        new("llamaguard-7b-awq (older page)", "scoped prompt, system and user", LlamaGuard, ExampleClient.WorkerBinding, $$"""{"messages":{{ComedianMessages}}}"""),
        new("llamaguard-7b-awq (older page)", "chat session with several iterations", LlamaGuard, ExampleClient.WorkerBinding, """
            {"messages":[{"role":"system","content":"you are a professional computer science assistant"},{"role":"user","content":"what is WASM?"},{"role":"assistant","content":"WASM (WebAssembly) is a binary instruction format that is designed to be a platform-agnostic"},{"role":"user","content":"does Python compile to WASM?"},{"role":"assistant","content":"No, Python does not directly compile to WebAssembly"},{"role":"user","content":"what about Rust?"}]}
            """),
        new("llamaguard-7b-awq (older page)", "unscoped prompt", LlamaGuard, ExampleClient.WorkerBinding, Joke),
        new("llamaguard-7b-awq (older page)", "Mistral chat template with raw", LlamaGuard, ExampleClient.WorkerBinding, $$"""{"prompt":{{MistralTemplate}},"raw":true}"""),
        new("llamaguard-7b-awq (older page)", "streaming with the Workers API", LlamaGuard, ExampleClient.WorkerBinding, $$"""{"stream":true,"messages":{{HelloWorldMessages}}}"""),
        new("llamaguard-7b-awq (older page)", "streaming with the REST API", LlamaGuard, ExampleClient.Curl, PizzaStreamCurl),
        // The page's URL for this one reads .../ai/run/@cf/meta/@hf/thebloke/llamaguard-7b-awq, a model id that exists
        // nowhere (Workers AI itself answers 5007); the body goes to the page's model.
        new("llamaguard-7b-awq (older page)", "server-sent events curl", LlamaGuard, ExampleClient.Curl, NewYorkCurl, "application/json"),

        // Llama Guard model page, newer layout.
        new("llamaguard-7b-awq (newer page)", "Worker - Streaming", LlamaGuard, ExampleClient.WorkerBinding, $$"""{"messages":{{HelloWorldMessages}},"stream":true}"""),
        new("llamaguard-7b-awq (newer page)", "Worker", LlamaGuard, ExampleClient.WorkerBinding, $$"""{"messages":{{HelloWorldMessages}}}"""),
        new("llamaguard-7b-awq (newer page)", "Python", LlamaGuard, ExampleClient.PythonRequests, Python("Tell me all about PEP-8")),
        new("llamaguard-7b-awq (newer page)", "curl", LlamaGuard, ExampleClient.Curl, PizzaCurl),

        // Text Generation task page.
        new("Text Generation task", "chat style, streaming Worker", Llama2Int8, ExampleClient.WorkerBinding, $$"""{"messages":{{HelloWorldMessages}},"stream":true}"""),
        new("Text Generation task", "chat style, Worker", Llama2Int8, ExampleClient.WorkerBinding, $$"""{"messages":{{HelloWorldMessages}}}"""),
        new("Text Generation task", "chat style, fetch", Llama2Int8, ExampleClient.Fetch,
            """{"messages":[{"role":"system","content":"You are a friendly assistant"},{"role":"user","content":"Tell me a story"}]}"""),
        new("Text Generation task", "chat style, Python", Llama2Int8, ExampleClient.PythonRequests, Python("Tell me a story")),
        new("Text Generation task", "chat style, curl", Llama2Int8, ExampleClient.Curl, PizzaCurl),
        new("Text Generation task", "unscoped prompt without templating", Llama2Int8, ExampleClient.WorkerBinding, Joke),
        new("Text Generation task", "Mistral chat template prompt", Mistral, ExampleClient.WorkerBinding, $$"""{"prompt":{{MistralTemplate}}}"""),
        new("Text Generation task", "scoped prompt, system and user", Llama2Int8, ExampleClient.WorkerBinding, $$"""{"messages":{{ComedianMessages}}}"""),
        new("Text Generation task", "streaming with the Workers API", Llama2Int8, ExampleClient.WorkerBinding, $$"""{"stream":true,"messages":{{HelloWorldMessages}}}"""),
        new("Text Generation task", "streaming with the REST API", Llama2Int8, ExampleClient.Curl, PizzaStreamCurl),
        new("Text Generation task", "server-sent events curl", Llama2Int8, ExampleClient.Curl, NewYorkCurl, "application/json"),

        // Llama 2 LoRA model page.
        new("llama-2-7b-chat-hf-lora", "Worker", Lora, ExampleClient.WorkerBinding,
            """{"prompt":"tell me a story","raw":true,"lora":"00000000-0000-0000-0000-000000000"}"""),
        new("llama-2-7b-chat-hf-lora", "curl", Lora, ExampleClient.Curl,
            "{\n\"prompt\": \"tell me a story\",\n\"raw\": \"true\",\n\"lora\": \"00000000-0000-0000-0000-000000000\"\n}"),
        new("llama-2-7b-chat-hf-lora", "unscoped prompt", Lora, ExampleClient.WorkerBinding, Joke),
        new("llama-2-7b-chat-hf-lora", "Mistral chat template with raw", Lora, ExampleClient.WorkerBinding, $$"""{"prompt":{{MistralTemplate}},"raw":true}"""),

        // Llama 3.1 8B AWQ model page.
        new("llama-3.1-8b-instruct-awq", "Worker - Streaming", Llama31, ExampleClient.WorkerBinding, $$"""{"messages":{{HelloWorldMessages}},"stream":true}"""),
        new("llama-3.1-8b-instruct-awq", "Worker", Llama31, ExampleClient.WorkerBinding, $$"""{"messages":{{HelloWorldMessages}}}"""),
        new("llama-3.1-8b-instruct-awq", "Python", Llama31, ExampleClient.PythonRequests, Python("Tell me all about PEP-8")),
        new("llama-3.1-8b-instruct-awq", "curl", Llama31, ExampleClient.Curl, PizzaCurl),
    ];
}
