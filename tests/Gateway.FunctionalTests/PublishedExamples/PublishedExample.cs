namespace Gateway.FunctionalTests.PublishedExamples;

/// <summary>How a published example reaches the API.</summary>
public enum ExampleClient
{
    /// <summary><c>curl -d '...'</c>: the REST path, <c>application/x-www-form-urlencoded</c> unless the example sets a type.</summary>
    Curl,

    /// <summary>Python <c>requests.post(..., json=...)</c>: the REST path, <c>application/json</c>, <c>json.dumps</c> spacing.</summary>
    PythonRequests,

    /// <summary>JavaScript <c>fetch(..., { body: JSON.stringify(...) })</c>: the REST path, <c>text/plain;charset=UTF-8</c>.</summary>
    Fetch,

    /// <summary>A Worker's <c>env.AI.run(model, input)</c> or an input object shown on its own: the input as JSON on
    /// the bare-result path <c>/ai/run/{model}</c>.</summary>
    WorkerBinding,
}

/// <summary>One request example from the Workers AI documentation pages the gateway follows, sent as written.</summary>
/// <param name="Page">The page it is on.</param>
/// <param name="Example">Which example on the page.</param>
/// <param name="Model">The model the example calls.</param>
/// <param name="Client">How it is sent.</param>
/// <param name="Body">The body exactly as the example sends it (JavaScript objects written as the JSON they serialize to).</param>
/// <param name="ContentType">A content type the example sets itself.</param>
public sealed record PublishedExample(string Page, string Example, string Model, ExampleClient Client, string Body, string? ContentType = null)
{
    public override string ToString() => $"{Page}: {Example}";
}
