using System.Text.Json;
using Gateway.Formatting;

namespace Gateway.WorkersAi;

/// <summary>Rewrites the string booleans a Workers AI body may carry (<c>"raw": "true"</c>) as JSON booleans, so that
/// the body forwarded byte for byte means to the upstream exactly what the gateway validated.</summary>
internal static class BooleanStrings
{
    /// <summary>The body with every named top-level field that holds <c>"true"</c> or <c>"false"</c> written as a
    /// boolean; every other property is copied unchanged, in order.</summary>
    /// <param name="root">The parsed body (duplicate keys were rejected when it was read).</param>
    /// <param name="names">The boolean fields to rewrite.</param>
    public static byte[] Normalize(JsonElement root, IReadOnlyList<string> names) => JsonText.Bytes(json =>
    {
        json.WriteStartObject();
        foreach (var property in root.EnumerateObject())
        {
            if (property.Value.ValueKind == JsonValueKind.String && names.Contains(property.Name)
                && property.Value.GetString() is "true" or "false")
            {
                json.WriteBoolean(property.Name, property.Value.ValueEquals("true"));
            }
            else
            {
                property.WriteTo(json);
            }
        }
        json.WriteEndObject();
    });
}
