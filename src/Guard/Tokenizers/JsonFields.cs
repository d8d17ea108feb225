using System.Text.Json;

namespace Guard.Tokenizers;

/// <summary>Typed access to JSON fields whose failures name the file and the field path.</summary>
/// <param name="FilePath">The file being read, for error messages.</param>
internal readonly record struct JsonFields(string FilePath)
{
    /// <summary>Creates the error for a field.</summary>
    /// <param name="field">The field path.</param>
    /// <param name="problem">What is wrong.</param>
    /// <returns>The exception to throw.</returns>
    public TokenizerLoadException Error(string? field, string problem) => new(FilePath, field, problem);

    /// <summary>Gets a required object field.</summary>
    /// <param name="parent">The parent object.</param>
    /// <param name="name">The property name.</param>
    /// <param name="path">The property path.</param>
    /// <returns>The object.</returns>
    public JsonElement RequiredObject(JsonElement parent, string name, string path) =>
        Optional(parent, name, path, JsonValueKind.Object) ?? throw Error(path, "missing; expected an object");

    /// <summary>Gets a required array field.</summary>
    /// <param name="parent">The parent object.</param>
    /// <param name="name">The property name.</param>
    /// <param name="path">The property path.</param>
    /// <returns>The array.</returns>
    public JsonElement RequiredArray(JsonElement parent, string name, string path) =>
        Optional(parent, name, path, JsonValueKind.Array) ?? throw Error(path, "missing; expected an array");

    /// <summary>Gets an optional field of one kind; <see langword="null"/> when absent or JSON null.</summary>
    /// <param name="parent">The parent object.</param>
    /// <param name="name">The property name.</param>
    /// <param name="path">The property path.</param>
    /// <param name="kind">The expected kind.</param>
    /// <returns>The element, or <see langword="null"/>.</returns>
    public JsonElement? Optional(JsonElement parent, string name, string path, JsonValueKind kind)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != kind && !(kind == JsonValueKind.True && value.ValueKind == JsonValueKind.False))
        {
            throw Error(path, $"expected {Describe(kind)}, found {Describe(value.ValueKind)}");
        }

        return value;
    }

    /// <summary>Gets an optional string field.</summary>
    /// <param name="parent">The parent object.</param>
    /// <param name="name">The property name.</param>
    /// <param name="path">The property path.</param>
    /// <returns>The string, or <see langword="null"/>.</returns>
    public string? OptionalString(JsonElement parent, string name, string path) =>
        Optional(parent, name, path, JsonValueKind.String)?.GetString();

    /// <summary>Gets a required string field.</summary>
    /// <param name="parent">The parent object.</param>
    /// <param name="name">The property name.</param>
    /// <param name="path">The property path.</param>
    /// <returns>The string.</returns>
    public string RequiredString(JsonElement parent, string name, string path) =>
        OptionalString(parent, name, path) ?? throw Error(path, "missing; expected a string");

    /// <summary>Gets an optional boolean field.</summary>
    /// <param name="parent">The parent object.</param>
    /// <param name="name">The property name.</param>
    /// <param name="path">The property path.</param>
    /// <param name="defaultValue">The value when absent.</param>
    /// <returns>The boolean.</returns>
    public bool OptionalBool(JsonElement parent, string name, string path, bool defaultValue) =>
        Optional(parent, name, path, JsonValueKind.True)?.GetBoolean() ?? defaultValue;

    /// <summary>Reads a token id.</summary>
    /// <param name="value">The element.</param>
    /// <param name="path">Its path.</param>
    /// <returns>The id.</returns>
    public int Id(JsonElement value, string path) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var id) && id >= 0
            ? id
            : throw Error(path, $"expected a non-negative integer token id, found {value.GetRawText()}");

    /// <summary>Gets a required token id field.</summary>
    /// <param name="parent">The parent object.</param>
    /// <param name="name">The property name.</param>
    /// <param name="path">The property path.</param>
    /// <returns>The id.</returns>
    public int RequiredId(JsonElement parent, string name, string path) =>
        parent.TryGetProperty(name, out var value) ? Id(value, path) : throw Error(path, "missing; expected a token id");

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
