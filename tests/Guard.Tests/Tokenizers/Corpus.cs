namespace Guard.Tests.Tokenizers;

/// <summary>The generated corpus (tests/Guard.Tests/js/corpus.mjs): the strings and the kind of each.</summary>
public sealed record Corpus(int Seed, int PerKind, string[] Kinds, string[] Texts);
