using System.Text.Json.Nodes;
using Policies.Validation;

namespace Policies.Config;

/// <summary>Reads a policy document tree (from YAML or JSON) into <see cref="PolicyDocumentConfig"/>, collecting every shape error.</summary>
internal sealed partial class PolicyDocumentReader(NodeReader read)
{
    private static readonly string[] RootFields = ["policies"];
    private static readonly string[] PolicyFields = ["name", "description", "match", "priority", "locked", "prompt", "response"];
    private static readonly string[] MatchFields = ["routes", "models", "tenants"];

    public PolicyDocumentConfig Read(JsonNode? root, string? file)
    {
        var document = new PolicyDocumentConfig { File = file };
        if (read.Object(root, "", "The file's root", RootFields) is not { } fields)
        {
            return document;
        }

        if (fields["policies"] is not JsonArray array)
        {
            if (fields["policies"] is null)
            {
                read.Missing("policies", "The file has no 'policies' list.", "Add 'policies:' with at least one policy (each with a name).");
            }
            else
            {
                read.Error("policies", fields["policies"], "'policies' must be a list.", "Write each policy as a list item ('- name: ...').");
            }

            return document;
        }

        var policies = new List<PolicyConfig>();
        for (var i = 0; i < array.Count; i++)
        {
            policies.Add(ReadPolicy(array[i], $"policies[{i}]"));
        }

        return document with { Policies = policies };
    }

    private PolicyConfig ReadPolicy(JsonNode? node, string path)
    {
        if (read.Object(node, path, "A policy", PolicyFields) is not { } f)
        {
            return new PolicyConfig();
        }

        return new PolicyConfig
        {
            Name = read.String(f["name"], $"{path}.name", "A policy name"),
            Description = read.String(f["description"], $"{path}.description", "A description"),
            Match = f["match"] is null ? null : ReadMatch(f["match"], $"{path}.match"),
            Priority = read.Int(f["priority"], $"{path}.priority"),
            Locked = read.Bool(f["locked"], $"{path}.locked"),
            Prompt = f["prompt"] is null ? null : ReadRole(f["prompt"], $"{path}.prompt"),
            Response = f["response"] is null ? null : ReadRole(f["response"], $"{path}.response"),
        };
    }

    private PolicyMatchConfig? ReadMatch(JsonNode? node, string path)
    {
        if (read.Object(node, path, "A selector", MatchFields) is not { } f)
        {
            return null;
        }

        return new PolicyMatchConfig
        {
            Routes = read.StringList(f["routes"], $"{path}.routes", "A route"),
            Models = read.StringList(f["models"], $"{path}.models", "A model id or glob"),
            Tenants = read.StringList(f["tenants"], $"{path}.tenants", "A tenant id"),
        };
    }
}
