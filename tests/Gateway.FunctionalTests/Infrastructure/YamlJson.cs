using System.Text.Json.Nodes;
using YamlDotNet.RepresentationModel;

namespace Gateway.FunctionalTests.Infrastructure;

/// <summary>YAML read into <see cref="JsonNode"/>s: every scalar is a string, as written (<c>"8080"</c>, <c>"true"</c>),
/// and an empty or null plain scalar is null.</summary>
public static class YamlJson
{
    /// <summary>Every document of <paramref name="yaml"/>, empty ones included as null.</summary>
    public static IReadOnlyList<JsonNode?> ParseAll(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return [.. stream.Documents.Select(d => ToJson(d.RootNode))];
    }

    /// <summary>A file holding one YAML document whose root is a mapping.</summary>
    public static JsonObject LoadFile(string path) =>
        ParseAll(File.ReadAllText(path)).SingleOrDefault() as JsonObject
        ?? throw new InvalidOperationException($"{path} does not hold one YAML mapping.");

    public static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(c => KeyValuePair.Create(((YamlScalarNode)c.Key).Value!, ToJson(c.Value)))),
        YamlSequenceNode list => new JsonArray([.. list.Children.Select(ToJson)]),
        YamlScalarNode { Value: null or "" or "~" or "null", Style: YamlDotNet.Core.ScalarStyle.Plain } => null,
        YamlScalarNode scalar => JsonValue.Create(scalar.Value),
        _ => throw new NotSupportedException($"Unexpected YAML node {node.NodeType} at {node.Start}"),
    };
}
