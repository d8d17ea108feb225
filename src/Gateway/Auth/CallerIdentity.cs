namespace Gateway.Auth;

/// <summary>Who made the call: set on the request's features by authentication, read by policy selection and audit.</summary>
/// <param name="Tenant">The key's tenant; null when authentication is off.</param>
/// <param name="KeyName">The key's label, when configured.</param>
public sealed record CallerIdentity(string? Tenant, string? KeyName)
{
    /// <summary>The caller when authentication is off.</summary>
    public static CallerIdentity Anonymous { get; } = new(null, null);
}
