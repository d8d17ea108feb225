using Policies.Validation;

namespace Policies.Config;

/// <summary>A policy document as read, with every problem found while reading it (syntax, shape, unknown fields).</summary>
/// <param name="Document">What could be read; complete only when <paramref name="Errors"/> is empty.</param>
/// <param name="Errors">The problems; empty when the file reads cleanly.</param>
public sealed record PolicyDocumentResult(PolicyDocumentConfig Document, IReadOnlyList<PolicyError> Errors);
