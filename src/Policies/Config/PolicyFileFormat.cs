namespace Policies.Config;

/// <summary>The syntax of a policy file, chosen by its extension.</summary>
public enum PolicyFileFormat
{
    /// <summary><c>.yaml</c> or <c>.yml</c>: YAML 1.2 (core schema scalars), one document.</summary>
    Yaml,

    /// <summary><c>.json</c>: JSON, comments and trailing commas allowed.</summary>
    Json,
}
