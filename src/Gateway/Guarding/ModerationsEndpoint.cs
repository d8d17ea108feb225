using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Errors;
using Gateway.Formatting;
using Gateway.Generation;
using Guard.Conversations;
using Guard.Engines;
using Guard.Verdicts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Guarding;

/// <summary>An OpenAI-style moderation endpoint (<c>POST /v1/moderations</c>) answered by the guard engine.</summary>
/// <remarks>Each input is classified as a user prompt. Category keys are the taxonomy's names in snake case
/// (<c>violence_and_hate</c>). Llama Guard gives one unsafe probability, not one per category: a violated category
/// scores that probability (1 when the engine gives none) and the others 0. An unparseable guard answer is flagged
/// (fail closed) and says so in <c>llama_guard.status</c>.</remarks>
public static class ModerationsEndpoint
{
    /// <summary>Most inputs in one request.</summary>
    public const int MaxInputs = 32;

    /// <summary>Maps <c>POST /v1/moderations</c>.</summary>
    public static IEndpointRouteBuilder MapModerations(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/v1/moderations", HandleAsync);
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext context)
    {
        try
        {
            var engine = context.RequestServices.GetRequiredService<GuardEngineProvider>().Engine
                ?? throw new ApiException(ApiErrors.NoGuardEngine());
            var options = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value;
            var (_, document) = await RequestBodyReader.ReadJsonAsync(context.Request, options.MaxRequestBodyBytes, lenientContentType: false,
                options.RequestBodyTimeout, context.RequestServices.GetRequiredService<TimeProvider>(), context.RequestAborted);
            List<GuardConversation> conversations;
            using (document)
            {
                conversations = ReadInputs(document.RootElement);
            }
            IReadOnlyList<GuardVerdict> verdicts;
            try
            {
                verdicts = await engine.ClassifyBatchAsync(conversations, context.RequestAborted);
            }
            catch (GuardEngineException ex)
            {
                throw new ApiException(ApiErrors.GuardFailed(ex.Transient, ex.Message));
            }
            var body = JsonText.Bytes(json => Write(json, engine, verdicts));
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
        catch (ApiException ex)
        {
            await ErrorWriter.WriteResponseAsync(context, ex.Error, workersAi: false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
    }

    private static List<GuardConversation> ReadInputs(JsonElement root)
    {
        if (JsonFields.Get(root, "input") is not { } input)
        {
            throw ApiError.InvalidException("Missing required parameter: 'input'.", "input");
        }
        if (JsonFields.Get(root, "model") is { } model && model.ValueKind != JsonValueKind.String)
        {
            throw JsonFields.TypeError("model", "a string", model);
        }
        var inputs = new List<string>();
        switch (input.ValueKind)
        {
            case JsonValueKind.String:
                inputs.Add(input.GetString()!);
                break;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in input.EnumerateArray())
                {
                    var at = $"input[{i++}]";
                    inputs.Add(item.ValueKind switch
                    {
                        JsonValueKind.String => item.GetString()!,
                        JsonValueKind.Object when JsonFields.String(item, "type", $"{at}.type") == "text" =>
                            JsonFields.String(item, "text", $"{at}.text") ?? throw ApiError.InvalidException($"'{at}.text' is required.", $"{at}.text"),
                        JsonValueKind.Object => throw ApiError.InvalidException($"'{at}' must be a text input; other input types are not supported.", at),
                        _ => throw JsonFields.TypeError(at, "a string or a text input object", item),
                    });
                }
                break;
            default:
                throw JsonFields.TypeError("input", "a string or an array", input);
        }
        if (inputs.Count == 0)
        {
            throw ApiError.InvalidException("'input' must not be empty.", "input");
        }
        if (inputs.Count > MaxInputs)
        {
            throw ApiError.InvalidException($"'input' has {inputs.Count} items; at most {MaxInputs} are accepted per request.", "input");
        }
        var conversations = new List<GuardConversation>(inputs.Count);
        for (var k = 0; k < inputs.Count; k++)
        {
            try
            {
                conversations.Add(GuardConversation.ForPrompt(inputs[k]));
            }
            catch (ArgumentException)
            {
                // Empty once stripped the way the guard strips it (Python's str.strip(), which also removes U+001C..U+001F).
                var at = input.ValueKind == JsonValueKind.Array ? $"input[{k}]" : "input";
                throw ApiError.InvalidException($"'{at}' must contain text.", at);
            }
        }
        return conversations;
    }

    private static void Write(Utf8JsonWriter json, IGuardEngine engine, IReadOnlyList<GuardVerdict> verdicts)
    {
        json.WriteStartObject();
        json.WriteString("id", "modr-" + RandomNumberGenerator.GetHexString(24, lowercase: true));
        json.WriteString("model", engine.Model);
        json.WriteStartArray("results");
        foreach (var verdict in verdicts)
        {
            var flagged = verdict.Status != GuardVerdictStatus.Safe;
            var violated = verdict.Categories.Select(c => c.Code).ToHashSet(StringComparer.Ordinal);
            json.WriteStartObject();
            json.WriteBoolean("flagged", flagged);
            json.WriteStartObject("categories");
            foreach (var category in engine.Taxonomy.Categories)
            {
                json.WriteBoolean(Slug(category.Name), violated.Contains(category.Code));
            }
            json.WriteEndObject();
            json.WriteStartObject("category_scores");
            foreach (var category in engine.Taxonomy.Categories)
            {
                json.WriteNumber(Slug(category.Name), violated.Contains(category.Code) ? verdict.UnsafeProbability ?? 1.0 : 0.0);
            }
            json.WriteEndObject();
            json.WriteStartObject("llama_guard");
            json.WriteString("status", verdict.Status.ToString().ToLowerInvariant());
            json.WriteStartArray("categories");
            foreach (var code in violated)
            {
                json.WriteStringValue(code);
            }
            json.WriteEndArray();
            if (verdict.UnsafeProbability is { } p)
            {
                json.WriteNumber("unsafe_probability", p);
            }
            else
            {
                json.WriteNull("unsafe_probability");
            }
            json.WriteBoolean("truncated", verdict.Truncated);
            json.WriteString("engine", verdict.Engine);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    /// <summary>"Violence and Hate." becomes "violence_and_hate".</summary>
    internal static string Slug(string name)
    {
        var slug = new StringBuilder(name.Length);
        foreach (var c in name.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(c))
            {
                slug.Append(c);
            }
            else if (slug.Length > 0 && slug[^1] != '_')
            {
                slug.Append('_');
            }
        }
        return slug.ToString().TrimEnd('_');
    }
}
