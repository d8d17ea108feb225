using System.Globalization;
using System.Text.Json.Nodes;

namespace Policies.Validation;

/// <summary>One problem in the policy files: where it is, the bad value, what is wrong and how to fix it.</summary>
/// <param name="File">The file as configured; <see langword="null"/> for problems of the whole set or of text input.</param>
/// <param name="Path">The field, e.g. <c>policies[2].prompt.categories.S99</c>; empty for the whole file.</param>
/// <param name="Value">The offending value as written (quoted when a string); <see langword="null"/> when a value is missing.</param>
/// <param name="Problem">What is wrong.</param>
/// <param name="Fix">What to change.</param>
public sealed record PolicyError(string? File, string Path, string? Value, string Problem, string Fix)
{
    private const int MaxValueLength = 80;

    /// <summary>The file and path joined, e.g. <c>tenants.yaml: policies[0].match</c>.</summary>
    public string Where => (File, Path) switch
    {
        (null, "") => "policies",
        (null, _) => Path,
        (_, "") => File,
        _ => $"{File}: {Path}",
    };

    /// <summary>Formats a string value for <see cref="Value"/>: quoted, shortened when long.</summary>
    public static string Quote(string? value) => value is null ? "null" : "'" + Shorten(value) + "'";

    /// <summary>Formats a document node for <see cref="Value"/>: strings quoted, anything else as JSON, shortened when long.</summary>
    public static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonValue v when v.TryGetValue<string>(out var s) => Quote(s),
        _ => Shorten(node.ToJsonString()),
    };

    /// <summary>Formats a number for <see cref="Value"/>.</summary>
    public static string Describe(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <inheritdoc />
    public override string ToString() =>
        Value is null ? $"{Where}: {Problem} Fix: {Fix}" : $"{Where}: {Problem.TrimEnd('.')} (got {Value}). Fix: {Fix}";

    private static string Shorten(string value) => value.Length <= MaxValueLength ? value : string.Concat(value.AsSpan(0, MaxValueLength - 3), "...");
}
