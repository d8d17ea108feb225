using Guard.Prompts;
using Guard.Verdicts;

namespace Guard.Tests.Verdicts;

public sealed class GuardVerdictParserTests
{
    public static TheoryData<GuardFamily, string?, GuardVerdictStatus, string, string> Rows => new()
    {
        // family, model output, status, known codes, unknown codes
        { GuardFamily.LlamaGuard1, "safe", GuardVerdictStatus.Safe, "", "" },
        { GuardFamily.LlamaGuard1, " safe", GuardVerdictStatus.Safe, "", "" },
        { GuardFamily.LlamaGuard3, "\n\nsafe", GuardVerdictStatus.Safe, "", "" },
        { GuardFamily.LlamaGuard3, "\n\nsafe<|eot_id|>", GuardVerdictStatus.Safe, "", "" },
        { GuardFamily.LlamaGuard1, "safe</s>", GuardVerdictStatus.Safe, "", "" },
        { GuardFamily.LlamaGuard1, "\r\n safe \r\n", GuardVerdictStatus.Safe, "", "" },
        { GuardFamily.LlamaGuard1, "unsafe", GuardVerdictStatus.Unsafe, "", "" },
        { GuardFamily.LlamaGuard1, "unsafe\n", GuardVerdictStatus.Unsafe, "", "" },
        { GuardFamily.LlamaGuard1, "unsafe\nO1", GuardVerdictStatus.Unsafe, "O1", "" },
        { GuardFamily.LlamaGuard1, "unsafe\nO1,O3", GuardVerdictStatus.Unsafe, "O1,O3", "" },
        { GuardFamily.LlamaGuard1, "unsafe\nO1, O3", GuardVerdictStatus.Unsafe, "O1,O3", "" },
        { GuardFamily.LlamaGuard1, " unsafe \n O3 , O1 \n", GuardVerdictStatus.Unsafe, "O3,O1", "" },
        { GuardFamily.LlamaGuard1, "unsafe\r\nO2</s>", GuardVerdictStatus.Unsafe, "O2", "" },
        { GuardFamily.LlamaGuard1, "unsafe\nO1,O1", GuardVerdictStatus.Unsafe, "O1", "" },
        { GuardFamily.LlamaGuard1, "unsafe\no4", GuardVerdictStatus.Unsafe, "O4", "" },
        { GuardFamily.LlamaGuard1, "unsafe\nO7", GuardVerdictStatus.Unsafe, "", "O7" },
        { GuardFamily.LlamaGuard1, "unsafe\nO1,O9,X", GuardVerdictStatus.Unsafe, "O1", "O9,X" },
        { GuardFamily.LlamaGuard1, "unsafe\nO", GuardVerdictStatus.Unsafe, "", "O" },
        { GuardFamily.LlamaGuard1, "unsafe\nO1,", GuardVerdictStatus.Unsafe, "O1", "" },
        { GuardFamily.LlamaGuard3, "\n\nunsafe\nS1", GuardVerdictStatus.Unsafe, "S1", "" },
        { GuardFamily.LlamaGuard3, "\n\nunsafe\nS1,S10,S14<|eot_id|>", GuardVerdictStatus.Unsafe, "S1,S10,S14", "" },
        { GuardFamily.LlamaGuard3, "unsafe S2", GuardVerdictStatus.Unsafe, "S2", "" },
        { GuardFamily.LlamaGuard3, "unsafe: S2", GuardVerdictStatus.Unsafe, "S2", "" },
        { GuardFamily.LlamaGuard3, "Unsafe\nS5", GuardVerdictStatus.Unsafe, "S5", "" },
        { GuardFamily.LlamaGuard3, "UNSAFE", GuardVerdictStatus.Unsafe, "", "" },
        { GuardFamily.LlamaGuard3, "unsafe\nS1\nS2", GuardVerdictStatus.Unsafe, "S1,S2", "" },
        { GuardFamily.LlamaGuard3, "unsafe\nS15", GuardVerdictStatus.Unsafe, "", "S15" },
        { GuardFamily.LlamaGuard2, "unsafe\nS12", GuardVerdictStatus.Unsafe, "", "S12" },
        { GuardFamily.LlamaGuard2, "unsafe\nS11.", GuardVerdictStatus.Unsafe, "S11", "" },
        { GuardFamily.LlamaGuard1, "", GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, null, GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, " \n\t ", GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, "</s>", GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, "uns", GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, "un", GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, "sa", GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, "Safe", GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, "SAFE", GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, "safe\nO1", GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, "safe and sound", GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, "safety", GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, "unsafely", GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, "I cannot help with that.", GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, "O1", GuardVerdictStatus.Unparseable, "", "" },
        { GuardFamily.LlamaGuard1, "[/INST] safe", GuardVerdictStatus.Unparseable, "", "" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Parse_Table(GuardFamily family, string? output, GuardVerdictStatus status, string codes, string unknown)
    {
        var parsed = GuardVerdictParser.Parse(output, GuardTaxonomy.ForFamily(family));

        Assert.Equal(status, parsed.Status);
        Assert.Equal(Split(codes), parsed.Categories.Select(c => c.Code));
        Assert.Equal(Split(unknown), parsed.UnknownCodes);
        Assert.Equal(output ?? "", parsed.Raw);
        Assert.Equal(status == GuardVerdictStatus.Unparseable, parsed.Problem is not null);
    }

    [Fact]
    public void Parse_ResolvesNamesThroughTheTaxonomy()
    {
        var parsed = GuardVerdictParser.Parse("unsafe\nO1,O3", GuardTaxonomy.LlamaGuard1);

        Assert.Equal(["Violence and Hate", "Criminal Planning"], parsed.Categories.Select(c => c.Name));
    }

    [Fact]
    public void Parse_CustomTaxonomy_ResolvesCustomCodes()
    {
        var taxonomy = GuardTaxonomy.FromConfig(
            GuardFamily.LlamaGuard3,
            new GuardTaxonomyConfig { Replace = true, Categories = [new() { Code = "C1", Name = "Fraud" }] });

        var parsed = GuardVerdictParser.Parse("\n\nunsafe\nC1,S1", taxonomy);

        Assert.Equal("Fraud", Assert.Single(parsed.Categories).Name);
        Assert.Equal(["S1"], parsed.UnknownCodes);
    }

    [Fact]
    public void Parse_RunawayCategoryLine_KeepsABoundedListOfUnknownCodes()
    {
        var output = "unsafe\n" + string.Join(",", Enumerable.Range(100, 500).Select(i => "X" + i));

        var parsed = GuardVerdictParser.Parse(output, GuardTaxonomy.LlamaGuard3);

        Assert.Equal(GuardVerdictStatus.Unsafe, parsed.Status);
        Assert.Equal(GuardVerdictParser.MaxUnknownCodes, parsed.UnknownCodes.Count);
    }

    [Fact]
    public void Parse_NullTaxonomy_Throws()
    {
        Assert.Throws<ArgumentNullException>("taxonomy", () => GuardVerdictParser.Parse("safe", null!));
    }

    private static string[] Split(string csv) => csv.Length == 0 ? [] : csv.Split(',');
}
