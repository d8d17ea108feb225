namespace Guard.Tests.Tokenizers;

/// <summary>The ids a JavaScript tokenizer gave for each corpus string, and how it was called.</summary>
public sealed record Oracle(string Package, string Call, int[][] Ids, Dictionary<string, int[]>? SpecialIds);
