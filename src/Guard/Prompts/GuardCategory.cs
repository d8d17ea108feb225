namespace Guard.Prompts;

/// <summary>One unsafe-content category of a taxonomy, as written into the prompt and reported in verdicts.</summary>
/// <param name="Code">What the model answers with, e.g. <c>S1</c> or <c>O3</c>.</param>
/// <param name="Name">The display name without a final period, e.g. <c>Violent Crimes</c>.</param>
/// <param name="Description">The policy text written under the heading (may span lines), or empty for none.</param>
public sealed record GuardCategory(string Code, string Name, string Description)
{
    /// <summary>
    /// The exact heading text written after <c>Code: </c> in place of <c>Name.</c>, when the trained format differs
    /// from the layout (Llama Guard 1 writes <c>O1: Violence and Hate. </c> with a trailing space); usually <see langword="null"/>.
    /// </summary>
    public string? Heading { get; init; }

    /// <summary>The heading text after <c>Code: </c>: <see cref="Heading"/>, or the name with one final period.</summary>
    public string HeadingText => Heading ?? (Name.EndsWith('.') ? Name : Name + ".");
}
