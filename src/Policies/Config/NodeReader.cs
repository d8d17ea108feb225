using System.Text.Json;
using System.Text.Json.Nodes;
using Policies.Validation;

namespace Policies.Config;

/// <summary>Typed reads from a document tree that record a <see cref="PolicyError"/> for each wrong shape instead of throwing.</summary>
/// <remarks>Field names are matched ignoring case; unknown fields are errors, since a mistyped field would silently take its default.</remarks>
internal sealed class NodeReader(string? file, List<PolicyError> errors)
{
    public List<PolicyError> Errors { get; } = errors;

    public void Error(string path, JsonNode? value, string problem, string fix) =>
        Errors.Add(new PolicyError(file, path, PolicyError.Describe(value), problem, fix));

    public void Missing(string path, string problem, string fix) => Errors.Add(new PolicyError(file, path, null, problem, fix));

    /// <summary>The node as an object whose fields are all among <paramref name="fields"/>; <see langword="null"/> (and an error) otherwise.</summary>
    public Fields? Object(JsonNode? node, string path, string what, params string[] fields)
    {
        if (node is not JsonObject obj)
        {
            Error(path, node, $"{what} must be a mapping of fields.", $"Write {what} as 'field: value' lines (YAML) or an object (JSON); its fields are {string.Join(", ", fields)}.");
            return null;
        }

        var found = new Dictionary<string, JsonNode?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in obj)
        {
            var known = fields.FirstOrDefault(f => string.Equals(f, key, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                var near = Nearest(key, fields);
                Error(Join(path, key), JsonValue.Create(key), $"Unknown field in {what}.",
                    near is null ? $"Remove it; the fields are {string.Join(", ", fields)}." : $"Did you mean '{near}'? The fields are {string.Join(", ", fields)}.");
            }
            else if (!found.TryAdd(known, value))
            {
                Error(Join(path, key), JsonValue.Create(key), $"The field '{known}' is given twice (names ignore case).", "Keep one of them.");
            }
        }

        return new Fields(found);
    }

    public string? String(JsonNode? node, string path, string what)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonValue v when v.GetValueKind() == JsonValueKind.String:
                return v.GetValue<string>();
            case JsonValue v when v.GetValueKind() == JsonValueKind.Number:
                // An unquoted tenant id or name such as 1234 is still text.
                return v.ToJsonString();
            default:
                Error(path, node, $"{what} must be a string.", "Write it as text (quote it if it looks like a number, a list or a mapping).");
                return null;
        }
    }

    public bool? Bool(JsonNode? node, string path)
    {
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False)
        {
            return v.GetValue<bool>();
        }

        Error(path, node, "The value must be true or false.", "Write true or false, unquoted.");
        return null;
    }

    public long? Integer(JsonNode? node, string path)
    {
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var l))
        {
            return l;
        }

        if (node is JsonValue d && d.GetValueKind() == JsonValueKind.Number && d.TryGetValue<double>(out var x) && x == Math.Floor(x) && Math.Abs(x) < 1e15)
        {
            return (long)x;
        }

        Error(path, node, "The value must be a whole number.", "Write an unquoted whole number, e.g. 10.");
        return null;
    }

    public int? Int(JsonNode? node, string path)
    {
        var l = Integer(node, path);
        if (l is null)
        {
            return null;
        }

        if (l is < int.MinValue or > int.MaxValue)
        {
            Error(path, node, "The number is out of range.", $"Write a number between {int.MinValue} and {int.MaxValue}.");
            return null;
        }

        return (int)l;
    }

    public double? Number(JsonNode? node, string path)
    {
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            // YAML integers arrive as longs, JSON numbers as elements; both read as doubles here.
            if (v.TryGetValue<double>(out var d))
            {
                return d;
            }

            if (v.TryGetValue<long>(out var l))
            {
                return l;
            }
        }

        Error(path, node, "The value must be a number.", "Write an unquoted number, e.g. 0.8.");
        return null;
    }

    public TimeSpan? Duration(JsonNode? node, string path)
    {
        if (node is null)
        {
            return null;
        }

        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String && Durations.TryParse(v.GetValue<string>(), out var t))
        {
            return t;
        }

        Error(path, node, "The value is not a duration.", "Write a number with a unit: 250ms, 2s, 1.5s, 1m (or hh:mm:ss); a bare number has no unit.");
        return null;
    }

    /// <summary>An enum value by its name, ignoring case and dashes (<c>block</c>, <c>closed</c>, <c>windowed</c>); numbers are refused.</summary>
    public T? Enum<T>(JsonNode? node, string path, string what)
        where T : struct, Enum
    {
        if (node is null)
        {
            return null;
        }

        var names = System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()).ToArray();
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            var text = v.GetValue<string>().Trim().Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
            foreach (var value in System.Enum.GetValues<T>())
            {
                if (string.Equals(value.ToString(), text, StringComparison.OrdinalIgnoreCase))
                {
                    return value;
                }
            }
        }

        Error(path, node, $"Unknown {what}.", $"Write one of: {string.Join(", ", names)}.");
        return null;
    }

    /// <summary>A list of strings; a single string is read as a list of one.</summary>
    public List<string> StringList(JsonNode? node, string path, string what)
    {
        var list = new List<string>();
        switch (node)
        {
            case null:
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (String(array[i], $"{path}[{i}]", what) is { } s)
                    {
                        list.Add(s);
                    }
                    else if (array[i] is null)
                    {
                        Error($"{path}[{i}]", null, $"{what} must not be empty.", "Remove the empty entry.");
                    }
                }

                break;
            default:
                if (String(node, path, what) is { } one)
                {
                    list.Add(one);
                }

                break;
        }

        return list;
    }

    public static string Join(string path, string field) => path.Length == 0 ? field : $"{path}.{field}";

    /// <summary>The closest known name within two edits, for "did you mean".</summary>
    private static string? Nearest(string key, string[] fields)
    {
        string? best = null;
        var bestDistance = 3;
        foreach (var field in fields)
        {
            var d = Distance(key.ToLowerInvariant(), field.ToLowerInvariant());
            if (d < bestDistance)
            {
                (best, bestDistance) = (field, d);
            }
        }

        return best;
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    /// <summary>An object's fields by their canonical names.</summary>
    public sealed class Fields(Dictionary<string, JsonNode?> fields)
    {
        public JsonNode? this[string name] => fields.GetValueOrDefault(name);

        public bool Has(string name) => fields.ContainsKey(name);
    }
}
