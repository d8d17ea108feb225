using Policies.Model;
using Policies.Validation;

namespace Policies.Store;

/// <summary>The outcome of one reload.</summary>
/// <param name="Applied">Whether the new policies are in force; false keeps the last good ones.</param>
/// <param name="Current">The policies in force after the reload.</param>
/// <param name="Errors">Why the reload was rejected; empty when applied.</param>
public sealed record PolicyReloadResult(bool Applied, PolicySetModel Current, IReadOnlyList<PolicyError> Errors);
