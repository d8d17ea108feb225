using Policies.Config;
using Policies.Model;
using Policies.Store;
using Policies.Validation;

namespace Policies.Tests;

/// <summary>Builds policy sets from inline documents.</summary>
internal static class TestPolicies
{
    public static readonly DateTimeOffset LoadedAt = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    /// <summary>Reads and validates a document, returning every problem (read and validation).</summary>
    public static PolicyLoadResult Load(string text, PolicyFileFormat format = PolicyFileFormat.Yaml, PolicyEngines? engines = null)
    {
        return PolicyLoader.Build([PolicyDocuments.Read(text, format, "test.yaml")], engines ?? TestEngines.Default, LoadedAt);
    }

    /// <summary>Reads a document that must be valid.</summary>
    public static PolicySetModel Valid(string text, PolicyFileFormat format = PolicyFileFormat.Yaml, PolicyEngines? engines = null)
    {
        var result = Load(text, format, engines);
        Assert.True(result.Errors.Count == 0, PolicyValidationException.Format(result.Errors));
        return result.Model!;
    }
}
