using Guard.Conversations;
using Guard.Prompts;

namespace Guard.Tests.Prompts;

public sealed class CustomTaxonomyTests
{
    private static readonly GuardConversation Prompt = GuardConversation.ForPrompt("{USER_MESSAGE}");

    private static string RenderUser(GuardFamily family, GuardTaxonomyConfig config) =>
        new LlamaGuardPromptRenderer(family, GuardTaxonomy.FromConfig(family, config)).Render(Prompt).Full;

    [Theory]
    [InlineData(GuardFamily.LlamaGuard1, "lg1_user.txt", "C1: Fraud.\nC2: Spam.\nShould not\n- Send bulk ads.\nCan\n- Discuss marketing.\n")]
    [InlineData(GuardFamily.LlamaGuard2, "lg2_user.txt", "C1: Fraud. \nC2: Spam. \nShould not\n- Send bulk ads.\nCan\n- Discuss marketing.\n")]
    [InlineData(GuardFamily.LlamaGuard3, "lg3_user.txt", "C1: Fraud.\nC2: Spam.\nShould not\n- Send bulk ads.\nCan\n- Discuss marketing.\n")]
    public void Replace_WritesOnlyTheConfiguredCategories_InTheFamilyLayout(GuardFamily family, string file, string block)
    {
        var config = new GuardTaxonomyConfig
        {
            Replace = true,
            Categories =
            [
                new() { Code = "C1", Name = "Fraud" },
                new() { Code = "C2", Name = "Spam.", Description = "Should not\r\n- Send bulk ads.\r\nCan\r\n- Discuss marketing.\r\n\r\n" },
            ],
        };

        var full = RenderUser(family, config);

        Assert.Equal(ReferenceFiles.ReplaceCategoryBlock(ReferenceFiles.Read(file), block), full);
    }

    [Fact]
    public void Extend_AppendsNewCategoriesAfterTheDefaults()
    {
        var config = new GuardTaxonomyConfig { Categories = [new() { Code = "S15", Name = "Financial Advice" }] };

        var full = RenderUser(GuardFamily.LlamaGuard3, config);

        var reference = ReferenceFiles.Read("lg3_user.txt");
        var block = ReferenceFiles.CategoryBlock(reference) + "S15: Financial Advice.\n";
        Assert.Equal(ReferenceFiles.ReplaceCategoryBlock(reference, block), full);
    }

    [Fact]
    public void Extend_LlamaGuard2_KeepsTheTrailingSpaceLayout()
    {
        var config = new GuardTaxonomyConfig { Categories = [new() { Code = "S12", Name = "Elections", Description = "Should not\n- Spread false voting information." }] };

        var full = RenderUser(GuardFamily.LlamaGuard2, config);

        var reference = ReferenceFiles.Read("lg2_user.txt");
        var block = ReferenceFiles.CategoryBlock(reference) + "S12: Elections. \nShould not\n- Spread false voting information.\n";
        Assert.Equal(ReferenceFiles.ReplaceCategoryBlock(reference, block), full);
    }

    [Fact]
    public void Override_Description_KeepsPositionNameAndTrainedHeading()
    {
        var config = new GuardTaxonomyConfig
        {
            Categories =
            [
                new() { Code = "o1", Description = "Should not\n- Threaten anyone." },
                new() { Code = "O3", Description = "Should not\n- Help plan crimes." },
            ],
        };

        var taxonomy = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, config);
        var full = new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard1, taxonomy).Render(Prompt).Full;

        Assert.Equal(["O1", "O2", "O3", "O4", "O5", "O6"], taxonomy.Categories.Select(c => c.Code));
        var reference = ReferenceFiles.Read("lg1_user.txt");
        var block = ReferenceFiles.CategoryBlock(reference);
        var expected = block
            .Replace(GuardTaxonomy.LlamaGuard1.Categories[0].Description, "Should not\n- Threaten anyone.", StringComparison.Ordinal)
            .Replace(GuardTaxonomy.LlamaGuard1.Categories[2].Description, "Should not\n- Help plan crimes.", StringComparison.Ordinal);
        Assert.Contains("O1: Violence and Hate. \nShould not\n- Threaten anyone.\nO2: Sexual Content.\n", expected, StringComparison.Ordinal);
        Assert.Equal(ReferenceFiles.ReplaceCategoryBlock(reference, expected), full);
    }

    [Fact]
    public void Override_Name_RewritesTheHeadingInTheLayout()
    {
        var config = new GuardTaxonomyConfig { Categories = [new() { Code = "O1", Name = "Violence" }, new() { Code = "S9", Name = "x" }] };

        var taxonomy = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, config);
        var full = new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard1, taxonomy).Render(Prompt).Full;

        Assert.Contains("\nO1: Violence.\nShould not\n- Help people plan", full, StringComparison.Ordinal);
        Assert.EndsWith("S9: x.\n", ReferenceFiles.CategoryBlock(full), StringComparison.Ordinal);
        Assert.True(taxonomy.TryGetCategory("O1", out var o1));
        Assert.Null(o1.Heading);
    }

    [Fact]
    public void Remove_LeavesOutDefaultCategories()
    {
        var config = new GuardTaxonomyConfig { Remove = ["S13", "s14"] };

        var full = RenderUser(GuardFamily.LlamaGuard3, config);

        var reference = ReferenceFiles.Read("lg3_user.txt");
        var block = ReferenceFiles.CategoryBlock(reference).Replace("S13: Elections.\nS14: Code Interpreter Abuse.\n", "", StringComparison.Ordinal);
        Assert.Equal(ReferenceFiles.ReplaceCategoryBlock(reference, block), full);
    }

    [Fact]
    public void FromConfig_Null_IsTheDefaultTaxonomy()
    {
        Assert.Same(GuardTaxonomy.LlamaGuard2, GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard2, null));
        Assert.Equal(
            ReferenceFiles.Read("lg2_user.txt"),
            RenderUser(GuardFamily.LlamaGuard2, new GuardTaxonomyConfig()));
    }

    private static readonly Dictionary<string, GuardTaxonomyConfig> InvalidConfigs = new()
    {
        ["empty code"] = new GuardTaxonomyConfig { Categories = [new() { Code = " ", Name = "X" }] },
        ["comma in code"] = new GuardTaxonomyConfig { Categories = [new() { Code = "S1,S2", Name = "X" }] },
        ["newline in code"] = new GuardTaxonomyConfig { Categories = [new() { Code = "S\n1", Name = "X" }] },
        ["space in code"] = new GuardTaxonomyConfig { Categories = [new() { Code = "S 1", Name = "X" }] },
        ["colon in code"] = new GuardTaxonomyConfig { Categories = [new() { Code = "S:1", Name = "X" }] },
        ["new without name"] = new GuardTaxonomyConfig { Categories = [new() { Code = "S99" }] },
        ["empty name override"] = new GuardTaxonomyConfig { Categories = [new() { Code = "S1", Name = "" }] },
        ["name with newline"] = new GuardTaxonomyConfig { Categories = [new() { Code = "S99", Name = "a\nb" }] },
        ["duplicate codes"] = new GuardTaxonomyConfig { Categories = [new() { Code = "X1", Name = "A" }, new() { Code = "x1", Name = "B" }] },
        ["remove unknown"] = new GuardTaxonomyConfig { Remove = ["S99"] },
        ["remove and define"] = new GuardTaxonomyConfig { Remove = ["S1"], Categories = [new() { Code = "S1", Name = "A" }] },
        ["remove with replace"] = new GuardTaxonomyConfig { Replace = true, Remove = ["S1"], Categories = [new() { Code = "A", Name = "A" }] },
        ["replace with nothing"] = new GuardTaxonomyConfig { Replace = true },
        ["null entry"] = new GuardTaxonomyConfig { Categories = [null!] },
    };

    public static TheoryData<string, string> InvalidConfigRows => new()
    {
        { "empty code", "Categories[0].Code is empty" },
        { "comma in code", "Categories[0].Code 'S1,S2' contains a comma" },
        { "newline in code", "contains a line break" },
        { "space in code", "contains whitespace" },
        { "colon in code", "contains ':'" },
        { "new without name", "Categories[0].Name is empty" },
        { "empty name override", "Categories[0].Name is empty" },
        { "name with newline", "Categories[0].Name 'a b' contains a line break" },
        { "duplicate codes", "Categories[1].Code 'x1' appears more than once" },
        { "remove unknown", "Remove[0] 'S99' is not a default category" },
        { "remove and define", "Remove[0] 'S1' is also listed in Categories" },
        { "remove with replace", "Remove lists codes but Replace is true" },
        { "replace with nothing", "has no categories" },
        { "null entry", "Categories[0] is empty" },
    };

    [Theory]
    [MemberData(nameof(InvalidConfigRows))]
    public void Validate_InvalidConfig_ReportsTheProblem(string scenario, string expected)
    {
        var invalid = InvalidConfigs[scenario];
        var errors = GuardTaxonomyValidator.Validate(GuardFamily.LlamaGuard3, invalid);

        Assert.True(errors.Any(e => e.Contains(expected, StringComparison.Ordinal)), $"{scenario}: {string.Join(" | ", errors)}");
        var thrown = Assert.Throws<ArgumentException>("config", () => GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard3, invalid));
        Assert.Contains(expected, thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CollectsEveryError()
    {
        var config = new GuardTaxonomyConfig
        {
            Categories = [new() { Code = "a,b", Name = "A" }, new() { Code = "S50" }, new() { Code = "S1", Name = "\n" }],
            Remove = ["Z9"],
        };

        var errors = GuardTaxonomyValidator.Validate(GuardFamily.LlamaGuard2, config);

        Assert.Equal(4, errors.Count);
    }

    [Fact]
    public void Validate_ValidConfig_HasNoErrors()
    {
        var config = new GuardTaxonomyConfig { Categories = [new() { Code = "S15", Name = "Fraud" }, new() { Code = "S1", Description = "x" }], Remove = ["S2"] };

        Assert.Empty(GuardTaxonomyValidator.Validate(GuardFamily.LlamaGuard3, config));
    }

    [Fact]
    public void Create_DuplicateAndEmpty_ThrowsListingEveryProblem()
    {
        var thrown = Assert.Throws<ArgumentException>(
            "categories",
            () => GuardTaxonomy.Create([new("A1", "One", ""), new("a1", "Two", ""), new("B1", " ", ""), new("", "Three", "")]));

        Assert.Contains("'a1' more than once", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("categories[2].Name is empty", thrown.Message, StringComparison.Ordinal);
        Assert.Contains("categories[3].Code is empty", thrown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_NormalizesDescriptions()
    {
        var taxonomy = GuardTaxonomy.Create([new("A1", " Fraud ", "\r\nline one\r\nline two  \r\n\r\n")]);

        Assert.Equal(new GuardCategory("A1", "Fraud", "line one\nline two"), taxonomy.Categories[0]);
    }
}
