namespace Guard.Tests.Tokenizers;

/// <summary>The tokenizer tests share one <see cref="TokenizerFixture"/>: the files are generated and loaded once.</summary>
[CollectionDefinition(Name)]
public sealed class TokenizerTestGroup : ICollectionFixture<TokenizerFixture>
{
    public const string Name = "Tokenizers";
}
