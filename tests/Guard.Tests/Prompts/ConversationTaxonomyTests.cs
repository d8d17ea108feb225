using Guard.Conversations;
using Guard.Prompts;

namespace Guard.Tests.Prompts;

/// <summary>A conversation's own taxonomy: carried by copies and truncation; taxonomies compare by content.</summary>
public sealed class ConversationTaxonomyTests
{
    private static readonly GuardTaxonomyConfig FraudAndSpam = new()
    {
        Replace = true,
        Categories = [new() { Code = "C1", Name = "Fraud" }, new() { Code = "C2", Name = "Spam" }],
    };

    [Fact]
    public void ByDefault_AConversationHasNoTaxonomy()
    {
        Assert.Null(GuardConversation.ForPrompt("hi").Taxonomy);
        Assert.Null(GuardConversation.ForResponse("hi", "hello").Taxonomy);
        Assert.Null(new GuardConversation([new(GuardRole.User, "hi")]).Taxonomy);
        Assert.Null(GuardConversation.FromMessages([new GuardChatMessage("user", "hi")]).Taxonomy);
    }

    [Fact]
    public void WithTaxonomy_IsACopyWithTheSameTurns_AndLeavesTheOriginalAlone()
    {
        var original = GuardConversation.ForResponse("q", "a");
        var taxonomy = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, FraudAndSpam);

        var custom = original.WithTaxonomy(taxonomy);
        var back = custom.WithTaxonomy(null);

        Assert.NotSame(original, custom);
        Assert.Same(taxonomy, custom.Taxonomy);
        Assert.Same(original.Turns, custom.Turns);
        Assert.Equal(GuardRole.Agent, custom.Role);
        Assert.Null(original.Taxonomy);
        Assert.Null(back.Taxonomy);
        Assert.Same(original.Turns, back.Turns);
    }

    [Fact]
    public void Truncation_KeepsTheConversationsTaxonomy()
    {
        var taxonomy = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, FraudAndSpam);
        var conversation = new GuardConversation([new(GuardRole.User, "old turn"), new(GuardRole.Agent, "0123456789 abcdefghij")]).WithTaxonomy(taxonomy);

        var dropped = LlamaGuardPromptRenderer.Fit(conversation, 30, s => s.Length);
        var cut = LlamaGuardPromptRenderer.Fit(conversation, 19, s => s.Length);

        Assert.True(dropped.Truncated);
        Assert.Equal(0, dropped.RemovedCharacters);
        Assert.Same(taxonomy, dropped.Conversation.Taxonomy);
        Assert.True(cut.RemovedCharacters > 0);
        Assert.Same(taxonomy, cut.Conversation.Taxonomy);
    }

    [Fact]
    public void Taxonomies_KnowTheFamilyTheyWereBuiltFor()
    {
        Assert.Equal(GuardFamily.LlamaGuard1, GuardTaxonomy.LlamaGuard1.Family);
        Assert.Equal(GuardFamily.LlamaGuard2, GuardTaxonomy.ForFamily(GuardFamily.LlamaGuard2).Family);
        Assert.Equal(GuardFamily.LlamaGuard3, GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard3, FraudAndSpam).Family);
        Assert.Null(GuardTaxonomy.Create([new GuardCategory("C1", "Fraud", "")]).Family);
    }

    [Fact]
    public void Taxonomies_AreEqual_WhenFamilyAndCategoriesAreTheSame()
    {
        var a = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, FraudAndSpam);
        var b = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, FraudAndSpam with { Categories = [.. FraudAndSpam.Categories] });
        var otherFamily = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard3, FraudAndSpam);
        var otherOrder = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, FraudAndSpam with { Categories = [.. FraudAndSpam.Categories.Reverse()] });
        var otherText = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, FraudAndSpam with { Categories = [new() { Code = "C1", Name = "Fraud", Description = "Should not\n- lie." }, new() { Code = "C2", Name = "Spam" }] });

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, otherFamily);
        Assert.NotEqual(a, otherOrder);
        Assert.NotEqual(a, otherText);
        Assert.Equal(GuardTaxonomy.LlamaGuard1, GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, new GuardTaxonomyConfig()));
        Assert.False(a.Equals(null));
    }
}
