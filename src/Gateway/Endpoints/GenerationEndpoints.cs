using System.Text.Json;
using Gateway.Catalog;
using Gateway.Errors;
using Gateway.Formatting;
using Gateway.Generation;
using Gateway.Upstreams;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Endpoints;

/// <summary>Maps the Workers AI and OpenAI text-generation routes.</summary>
public static class GenerationEndpoints
{
    /// <summary>Maps <c>/ai/run/{model}</c>, <c>/client/v4/accounts/{account_id}/ai/run/{model}</c> and <c>/v1/*</c>.</summary>
    public static IEndpointRouteBuilder MapGeneration(this IEndpointRouteBuilder endpoints)
    {
        // Model ids contain '@' and '/', hence the catch-all parameters. They also match an empty model ("/ai/run"),
        // which the handler reports in the surface's envelope rather than as a bare binding failure.
        endpoints.MapPost("/ai/run/{**model}", (HttpContext context, string? model) =>
            Handler(context).HandleAsync(context, ClientApi.WorkersAiShort, model));
        endpoints.MapPost("/client/v4/accounts/{account_id}/ai/run/{**model}", (HttpContext context, string account_id, string? model) =>
            Handler(context).HandleAsync(context, ClientApi.WorkersAiRest, model, account_id));
        endpoints.MapPost("/v1/chat/completions", (HttpContext context) =>
            Handler(context).HandleAsync(context, ClientApi.OpenAiChat));
        endpoints.MapPost("/v1/completions", (HttpContext context) =>
            Handler(context).HandleAsync(context, ClientApi.OpenAiCompletions));
        endpoints.MapGet("/v1/models", ListModelsAsync);
        endpoints.MapGet("/v1/models/{**model}", GetModelAsync);
        return endpoints;
    }

    private static GenerationHandler Handler(HttpContext context) => context.RequestServices.GetRequiredService<GenerationHandler>();

    private static async Task ListModelsAsync(HttpContext context)
    {
        var catalog = context.RequestServices.GetRequiredService<ModelCatalog>();
        var upstreams = context.RequestServices.GetRequiredService<UpstreamRegistry>();
        var body = JsonText.Bytes(json =>
        {
            json.WriteStartObject();
            json.WriteString("object", "list");
            json.WriteStartArray("data");
            foreach (var model in catalog.Models)
            {
                WriteModel(json, model, upstreams);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        });
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    private static async Task GetModelAsync(HttpContext context, string model)
    {
        var catalog = context.RequestServices.GetRequiredService<ModelCatalog>();
        if (!catalog.TryGet(Uri.UnescapeDataString(model), out var info))
        {
            await ErrorWriter.WriteResponseAsync(context, ApiErrors.ModelNotFound(Uri.UnescapeDataString(model), workersAi: false), workersAi: false);
            return;
        }
        var upstreams = context.RequestServices.GetRequiredService<UpstreamRegistry>();
        context.Response.ContentType = "application/json";
        await context.Response.Body.WriteAsync(JsonText.Bytes(json => WriteModel(json, info, upstreams)), context.RequestAborted);
    }

    private static void WriteModel(Utf8JsonWriter json, ModelInfo model, UpstreamRegistry upstreams)
    {
        json.WriteStartObject();
        json.WriteString("id", model.Id);
        json.WriteString("object", "model");
        json.WriteNumber("created", 0);
        json.WriteString("owned_by", upstreams.Resolve(model).Name);
        if (model.ContextTokens is { } ctx)
        {
            json.WriteNumber("context_window", ctx);
        }
        json.WriteNumber("max_tokens", model.MaxTokensLimit);
        if (model.Deprecated is { } d)
        {
            json.WriteString("deprecated", d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        }
        json.WriteEndObject();
    }
}
