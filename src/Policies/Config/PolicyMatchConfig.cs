namespace Policies.Config;

/// <summary>A policy's selector: each list left empty matches anything; a request must match every non-empty list.</summary>
public sealed record PolicyMatchConfig
{
    /// <summary>API surfaces (<see cref="PolicyRoutes"/>), e.g. <c>openai-chat</c>.</summary>
    public IReadOnlyList<string> Routes { get; init; } = [];

    /// <summary>Model ids or globs where <c>*</c> matches any run of characters, e.g. <c>@cf/meta/*</c>.</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    /// <summary>Tenant ids, as resolved from the API key.</summary>
    public IReadOnlyList<string> Tenants { get; init; } = [];
}
