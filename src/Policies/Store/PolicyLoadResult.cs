using Policies.Model;
using Policies.Validation;

namespace Policies.Store;

/// <summary>The outcome of reading and validating the policy files.</summary>
/// <param name="Model">The snapshot, when every file is valid; <see langword="null"/> otherwise.</param>
/// <param name="Errors">Every problem of every file; empty when valid.</param>
public sealed record PolicyLoadResult(PolicySetModel? Model, IReadOnlyList<PolicyError> Errors);
