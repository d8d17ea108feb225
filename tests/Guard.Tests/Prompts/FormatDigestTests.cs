using System.Security.Cryptography;
using System.Text;
using Guard.Conversations;
using Guard.Prompts;

namespace Guard.Tests.Prompts;

/// <summary>The prompt format digest: the fixed parts of the rendered prompt and the category table, for one family, taxonomy and role.</summary>
public sealed class FormatDigestTests
{
    private static readonly GuardTaxonomyConfig Custom = new()
    {
        Categories = [new() { Code = "S15", Name = "Financial Advice", Description = "Should not\n- Recommend stocks." }],
    };

    [Theory]
    [InlineData(GuardFamily.LlamaGuard1)]
    [InlineData(GuardFamily.LlamaGuard2)]
    [InlineData(GuardFamily.LlamaGuard3)]
    public void Digest_IsTheDocumentedRuleOverTheRenderedFixedParts(GuardFamily family)
    {
        var renderer = new LlamaGuardPromptRenderer(family, GuardTaxonomy.FromConfig(family, Custom));
        foreach (var role in new[] { GuardRole.User, GuardRole.Agent })
        {
            Assert.Equal(IndependentDigest(renderer, role), renderer.GetFormatDigest(role));
        }
    }

    [Fact]
    public void Digest_CoversEverythingButTheConversation()
    {
        // The fixed parts the digest covers, with the conversation's place marked, give back every rendered prompt.
        var renderer = new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard3);
        var conversation = GuardConversation.ForPrompt("hello there");
        var rendered = renderer.Render(conversation);
        Assert.Equal(rendered.Full, renderer.GetPrefix(GuardRole.User) + LlamaGuardPromptRenderer.RenderConversation(conversation) + renderer.GetSuffix(GuardRole.User));
        Assert.Equal(rendered.Segments.Where(s => s.Text != rendered.Conversation), renderer.GetPrefixSegments(GuardRole.User).Concat(renderer.GetSuffixSegments(GuardRole.User)));
    }

    [Fact]
    public void EqualTaxonomies_BuiltSeparately_GiveEqualDigests_InEveryRendererAndTheStatic()
    {
        var a = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard3, Custom);
        var b = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard3, Custom with { Categories = [.. Custom.Categories] });
        Assert.NotSame(a, b);
        Assert.Equal(a, b);

        var digest = new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard3, a).GetFormatDigest(GuardRole.User);

        Assert.Equal(digest, new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard3, b).GetFormatDigest(GuardRole.User));
        Assert.Equal(digest, LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard3, b, GuardRole.User));
        Assert.Equal(digest, LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard3, a, GuardRole.User));
        Assert.Matches("^[0-9a-f]{64}$", digest);
    }

    [Fact]
    public void DefaultTaxonomy_IsTheNullTaxonomy()
    {
        Assert.Equal(
            new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard1).GetFormatDigest(GuardRole.Agent),
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard1, null, GuardRole.Agent));
        Assert.Equal(
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard2, GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard2, null), GuardRole.User),
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard2, null, GuardRole.User));
    }

    [Fact]
    public void Digests_DifferBetweenRolesFamiliesAndTaxonomies()
    {
        var changedDescription = Custom with { Categories = [Custom.Categories[0] with { Description = "Should not\n- Recommend bonds." }] };
        var renamedDefault = new GuardTaxonomyConfig { Categories = [new() { Code = "O1", Name = "Violence" }] };
        var taxonomy = GuardTaxonomy.Create([new GuardCategory("X1", "Spam", "")]);
        string[] digests =
        [
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard3, GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard3, Custom), GuardRole.User),
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard3, GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard3, Custom), GuardRole.Agent),
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard3, GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard3, changedDescription), GuardRole.User),
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard3, null, GuardRole.User),
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard2, null, GuardRole.User),
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard1, null, GuardRole.User),
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard1, GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, renamedDefault), GuardRole.User),
            // A taxonomy built for no family renders the same categories in each family's layout: still one digest per family.
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard1, taxonomy, GuardRole.User),
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard2, taxonomy, GuardRole.User),
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard3, taxonomy, GuardRole.User),
        ];

        Assert.Equal(digests.Length, digests.Distinct().Count());
    }

    [Fact]
    public void CategoryName_ThatTheHeadingHidesFromThePrompt_StillChangesTheDigest()
    {
        // Llama Guard 1's default categories carry explicit headings, so a renamed category renders the same prompt,
        // but its verdicts report the new name.
        var original = GuardTaxonomy.LlamaGuard1;
        var renamed = GuardTaxonomy.Create([original.Categories[0] with { Name = "Hate" }, .. original.Categories.Skip(1)]);
        var asIs = GuardTaxonomy.Create(original.Categories);
        Assert.Equal(
            new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard1, asIs).GetPrefix(GuardRole.User),
            new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard1, renamed).GetPrefix(GuardRole.User));

        Assert.NotEqual(
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard1, asIs, GuardRole.User),
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard1, renamed, GuardRole.User));
    }

    [Fact]
    public void Static_TaxonomyOfAnotherFamily_IsRefused()
    {
        var ex = Assert.Throws<ArgumentException>(() => LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard1, GuardTaxonomy.LlamaGuard3, GuardRole.User));
        Assert.Contains("LlamaGuard3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Renderer_ReturnsTheSameStringInstance_AfterTheFirstCall()
    {
        var renderer = new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard2);
        Assert.Same(renderer.GetFormatDigest(GuardRole.User), renderer.GetFormatDigest(GuardRole.User));
        Assert.Same(
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard2, null, GuardRole.Agent),
            LlamaGuardPromptRenderer.GetFormatDigest(GuardFamily.LlamaGuard2, GuardTaxonomy.LlamaGuard2, GuardRole.Agent));
    }

    /// <summary>The documented rule, written out from the renderer's public parts.</summary>
    private static string IndependentDigest(LlamaGuardPromptRenderer renderer, GuardRole role)
    {
        var input = new StringBuilder();
        void Record(char tag, string text) => input.Append(tag).Append(Encoding.UTF8.GetByteCount(text)).Append(':').Append(text);
        Record('V', "1");
        Record('F', renderer.Family.ToString());
        Record('R', role.ToString());
        foreach (var segment in renderer.GetPrefixSegments(role))
        {
            Record(segment.IsSpecial ? 'S' : 'T', segment.Text);
        }

        Record('C', "");
        foreach (var segment in renderer.GetSuffixSegments(role))
        {
            Record(segment.IsSpecial ? 'S' : 'T', segment.Text);
        }

        foreach (var category in renderer.Taxonomy.Categories)
        {
            Record('K', category.Code);
            Record('N', category.Name);
            Record('D', category.Description);
            if (category.Heading is not null)
            {
                Record('H', category.Heading);
            }
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(input.ToString())));
    }
}
