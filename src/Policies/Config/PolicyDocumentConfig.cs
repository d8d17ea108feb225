namespace Policies.Config;

/// <summary>One policy file as read: its policies in file order.</summary>
public sealed record PolicyDocumentConfig
{
    /// <summary>The file the document came from (as configured), for error messages; <see langword="null"/> for text.</summary>
    public string? File { get; init; }

    /// <summary>The policies, in file order.</summary>
    public IReadOnlyList<PolicyConfig> Policies { get; init; } = [];
}
