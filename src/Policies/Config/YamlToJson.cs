using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Policies.Validation;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Policies.Config;

/// <summary>
/// Turns one YAML document into the JSON tree the document reader takes, so YAML and JSON share every later step.
/// </summary>
/// <remarks>
/// Plain scalars follow the YAML 1.2 core schema (<c>true</c>/<c>false</c>, <c>null</c>/<c>~</c>/empty, integers,
/// decimals); quoted or block scalars are always strings. Aliases are expanded, within a depth and node budget so a
/// self-referencing or exponentially aliased document is refused instead of exhausting memory.
/// </remarks>
internal static partial class YamlToJson
{
    private const int MaxDepth = 64;
    private const int MaxNodes = 100_000;
    private const string StringTag = "tag:yaml.org,2002:str";

    public static JsonNode? Convert(string text, string? file, List<PolicyError> errors)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            errors.Add(new PolicyError(file, At(ex.Start), null, $"The YAML cannot be parsed: {Message(ex)}.",
                "Correct the YAML syntax at that line (indentation, a missing ':' or closing bracket, a duplicate key)."));
            return null;
        }

        if (stream.Documents.Count != 1)
        {
            errors.Add(new PolicyError(file, "", stream.Documents.Count.ToString(CultureInfo.InvariantCulture),
                stream.Documents.Count == 0 ? "The file is empty." : "The file holds several YAML documents.",
                "Write one document whose root has a 'policies' list; split other documents into files of their own."));
            return null;
        }

        var budget = MaxNodes;
        try
        {
            return ToJson(stream.Documents[0].RootNode, 0, ref budget);
        }
        catch (YamlException ex)
        {
            errors.Add(new PolicyError(file, At(ex.Start), null, ex.Message,
                "Remove the self-referencing or deeply nested aliases, or write the content out."));
            return null;
        }
    }

    private static JsonNode? ToJson(YamlNode node, int depth, ref int budget)
    {
        if (depth > MaxDepth || --budget < 0)
        {
            throw new YamlException(node.Start, node.End,
                $"The document nests deeper than {MaxDepth} levels or expands to more than {MaxNodes} nodes (through aliases)");
        }

        switch (node)
        {
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        throw new YamlException(key.Start, key.End, "A mapping key must be a plain string");
                    }

                    // Keys differing only in case are kept apart here; the reader reports them.
                    if (!obj.TryAdd(name, ToJson(value, depth + 1, ref budget)))
                    {
                        throw new YamlException(key.Start, key.End, $"Duplicate key '{name}'");
                    }
                }

                return obj;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children)
                {
                    array.Add(ToJson(item, depth + 1, ref budget));
                }

                return array;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                throw new YamlException(node.Start, node.End, $"Unsupported YAML node {node.NodeType}");
        }
    }

    private static JsonValue? Scalar(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? string.Empty;
        if (scalar.Style != ScalarStyle.Plain || (scalar.Tag.IsGlobal && scalar.Tag.Value == StringTag))
        {
            return JsonValue.Create(text);
        }

        return text switch
        {
            "" or "~" or "null" or "Null" or "NULL" => null,
            "true" or "True" or "TRUE" => JsonValue.Create(true),
            "false" or "False" or "FALSE" => JsonValue.Create(false),
            _ when IntegerPattern().IsMatch(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
            _ when FloatPattern().IsMatch(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
            _ => JsonValue.Create(text),
        };
    }

    private static string At(Mark mark) => mark.Line > 0 ? $"line {mark.Line}, column {mark.Column}" : "";

    private static string Message(YamlException ex)
    {
        // YamlDotNet appends the position in parentheses; the path already carries it.
        var message = ex.InnerException?.Message ?? ex.Message;
        var cut = message.IndexOf("Line:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).Trim().TrimEnd('.');
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$", RegexOptions.CultureInvariant)]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex FloatPattern();
}
