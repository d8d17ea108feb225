using Gateway.Catalog;

namespace Gateway.Tests.Catalog;

public sealed class ModelCatalogTests
{
    private static ModelCatalog Build(params (string Id, ModelOptions Options)[] models) =>
        ModelCatalog.Build(models.Select(m => KeyValuePair.Create(m.Id, m.Options)));

    private static string BuildError(params (string Id, ModelOptions Options)[] models) =>
        Assert.Throws<InvalidOperationException>(() => Build(models)).Message;

    [Fact]
    public void Defaults_AreTheWorkersAiOnes()
    {
        var model = Assert.Single(Build(("m", new ModelOptions())).Models);

        Assert.Equal("m", model.Id);
        Assert.Equal("m", model.UpstreamModel);
        Assert.Equal(256, model.DefaultMaxTokens);
        Assert.Equal(256, model.DefaultMaxTokensStream);
        Assert.Equal(256, model.MaxTokensLimit);
        Assert.Null(model.ContextTokens);
        Assert.Null(model.MaxPromptChars);
        Assert.False(model.Lora);
        Assert.False(model.Tools);
        Assert.False(model.Beta);
        Assert.Null(model.Deprecated);
        Assert.Equal(ParameterRanges.WorkersAiDefaults, model.Ranges);
        Assert.Equal((0d, 5d), model.Ranges.Temperature);
        Assert.Equal((0.001, 1d), model.Ranges.TopP);
        Assert.Equal((1d, 50d), model.Ranges.TopK);
        Assert.Equal((1d, 9_999_999_999d), model.Ranges.Seed);
        Assert.Equal((0d, 2d), model.Ranges.RepetitionPenalty);
        Assert.Equal((-2d, 2d), model.Ranges.FrequencyPenalty);
        Assert.Equal((-2d, 2d), model.Ranges.PresencePenalty);
    }

    [Theory]
    // DefaultMaxTokens, DefaultMaxTokensStream, MaxTokensLimit -> resolved default, stream default, limit
    [InlineData(256, null, null, 256, 256, 256)]
    [InlineData(256, 1800, null, 256, 1800, 1800)] // the stream default doubles as the limit
    [InlineData(256, null, 2500, 256, 2500, 2500)] // streams default to the limit
    [InlineData(256, 596, 2500, 256, 596, 2500)]
    [InlineData(512, 100, null, 512, 100, 512)] // the limit is the larger default
    public void TokenDefaults_Resolve(int defaultMax, int? streamDefault, int? limit, int expectedDefault, int expectedStream, int expectedLimit)
    {
        var model = Build(("m", new ModelOptions { DefaultMaxTokens = defaultMax, DefaultMaxTokensStream = streamDefault, MaxTokensLimit = limit })).Models[0];

        Assert.Equal(expectedDefault, model.DefaultMaxTokens);
        Assert.Equal(expectedStream, model.DefaultMaxTokensStream);
        Assert.Equal(expectedLimit, model.MaxTokensLimit);
    }

    [Fact]
    public void ConfiguredRanges_ReplaceOnlyTheirOwnDefaults()
    {
        var options = new ModelOptions
        {
            Ranges = new ParameterRangesOptions
            {
                TopP = new NumberRange { Min = 0, Max = 2 },
                FrequencyPenalty = new NumberRange { Min = 0, Max = 2 },
                Seed = new NumberRange { Min = 0, Max = 100 },
            },
        };
        var ranges = Build(("m", options)).Models[0].Ranges;

        Assert.Equal((0d, 2d), ranges.TopP);
        Assert.Equal((0d, 2d), ranges.FrequencyPenalty);
        Assert.Equal((0d, 100d), ranges.Seed);
        Assert.Equal(ParameterRanges.WorkersAiDefaults.Temperature, ranges.Temperature);
        Assert.Equal(ParameterRanges.WorkersAiDefaults.TopK, ranges.TopK);
        Assert.Equal(ParameterRanges.WorkersAiDefaults.RepetitionPenalty, ranges.RepetitionPenalty);
        Assert.Equal(ParameterRanges.WorkersAiDefaults.PresencePenalty, ranges.PresencePenalty);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("llama2", "llama2")]
    [InlineData("Llama3", "llama3")]
    public void Tokenizer_IsAKnownFamily_OrUnset(string? configured, string? family) =>
        Assert.Equal(family, Build(("m", new ModelOptions { Tokenizer = configured })).Models[0].Tokenizer);

    [Fact]
    public void UnknownTokenizer_IsAnError_NamingTheFix()
    {
        var message = BuildError(("m", new ModelOptions { Tokenizer = "gpt2" }));

        Assert.Contains("Gateway:Models:m ('m'): Tokenizer 'gpt2' is not a known family; use llama2 or llama3, or leave it unset to estimate tokens from bytes.", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, 256, null)]
    [InlineData(256, 256, null)]
    [InlineData(2048, 256, 2048)]
    public void ContextTokens_MustExceedTheDefaultMaxTokens(int context, int defaultMax, int? streamDefault)
    {
        var message = BuildError(("m", new ModelOptions { ContextTokens = context, DefaultMaxTokens = defaultMax, DefaultMaxTokensStream = streamDefault }));

        Assert.Contains($"ContextTokens {context} must be positive and larger than the default max tokens", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Flags_AndUpstreamName_AreCopied()
    {
        var model = Build(("@cf/x/y", new ModelOptions
        {
            ContextTokens = 4096,
            MaxPromptChars = 1000,
            Lora = true,
            Tools = true,
            Beta = true,
            Deprecated = new DateOnly(2025, 10, 1),
            UpstreamModel = "served/y",
        })).Models[0];

        Assert.Equal(4096, model.ContextTokens);
        Assert.Equal(1000, model.MaxPromptChars);
        Assert.True(model.Lora);
        Assert.True(model.Tools);
        Assert.True(model.Beta);
        Assert.Equal(new DateOnly(2025, 10, 1), model.Deprecated);
        Assert.Equal("served/y", model.UpstreamModel);
    }

    [Fact]
    public void EmptyUpstreamModel_MeansTheCatalogId()
    {
        Assert.Equal("m", Build(("m", new ModelOptions { UpstreamModel = "" })).Models[0].UpstreamModel);
    }

    [Fact]
    public void Models_KeepConfigurationOrder_AndLookupIsExact()
    {
        var catalog = Build(("b", new ModelOptions()), ("a", new ModelOptions()), ("@cf/meta/Model", new ModelOptions()));

        Assert.Equal(["b", "a", "@cf/meta/Model"], catalog.Models.Select(m => m.Id));
        Assert.True(catalog.TryGet("@cf/meta/Model", out var found));
        Assert.Same(catalog.Models[2], found);
        Assert.False(catalog.TryGet("@cf/meta/model", out _));
        Assert.False(catalog.TryGet("@cf/meta/Model ", out _));
        Assert.False(catalog.TryGet("", out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("@cf/meta/llama 2")]
    [InlineData("@cf/meta/llama\t2")]
    public void ModelIds_MustBeNonEmpty_WithoutWhitespace(string id)
    {
        var message = BuildError((id, new ModelOptions()));

        Assert.Contains($"Gateway:Models:{id}: a model id must be non-empty and contain no whitespace.", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, null, null)]
    [InlineData(-1, null, null)]
    [InlineData(256, 0, 100)]
    [InlineData(256, null, 0)]
    public void TokenLimits_MustBePositive(int defaultMax, int? streamDefault, int? limit)
    {
        var message = BuildError(("m", new ModelOptions { DefaultMaxTokens = defaultMax, DefaultMaxTokensStream = streamDefault, MaxTokensLimit = limit }));

        Assert.Contains("Gateway:Models:m ('m'): token limits must be positive.", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3000, null, 2500)]
    [InlineData(256, 3000, 2500)]
    public void Defaults_MayNotExceedTheLimit(int defaultMax, int? streamDefault, int limit)
    {
        var message = BuildError(("m", new ModelOptions { DefaultMaxTokens = defaultMax, DefaultMaxTokensStream = streamDefault, MaxTokensLimit = limit }));

        Assert.Contains("Gateway:Models:m ('m'): default max tokens exceed MaxTokensLimit (2500).", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Temperature")]
    [InlineData("TopP")]
    [InlineData("TopK")]
    [InlineData("Seed")]
    [InlineData("RepetitionPenalty")]
    [InlineData("FrequencyPenalty")]
    [InlineData("PresencePenalty")]
    public void InvertedRanges_AreNamed(string name)
    {
        var ranges = new ParameterRangesOptions();
        typeof(ParameterRangesOptions).GetProperty(name)!.SetValue(ranges, new NumberRange { Min = 3, Max = 1 });

        var message = BuildError(("m", new ModelOptions { Ranges = ranges }));

        Assert.Contains($"Gateway:Models:m ('m'): Ranges:{name} has Min 3 > Max 1.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyCatalog_IsAnError()
    {
        var message = Assert.Throws<InvalidOperationException>(() => ModelCatalog.Build([])).Message;

        Assert.Contains("Gateway:Models is empty; configure at least one model.", message, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryError_IsCollected_BeforeFailing()
    {
        var message = BuildError(
            ("good", new ModelOptions()),
            ("bad id", new ModelOptions()),
            ("zero", new ModelOptions { DefaultMaxTokens = 0 }),
            ("over", new ModelOptions { DefaultMaxTokens = 300, MaxTokensLimit = 200 }),
            ("ranges", new ModelOptions
            {
                Ranges = new ParameterRangesOptions
                {
                    Temperature = new NumberRange { Min = 2, Max = 1 },
                    TopK = new NumberRange { Min = 50, Max = 1 },
                },
            }));
        var lines = message.Split(Environment.NewLine);

        Assert.Equal("Invalid model catalog:", lines[0]);
        Assert.Equal(
        [
            "Gateway:Models:bad id: a model id must be non-empty and contain no whitespace.",
            "Gateway:Models:zero ('zero'): token limits must be positive.",
            "Gateway:Models:over ('over'): default max tokens exceed MaxTokensLimit (200).",
            "Gateway:Models:ranges ('ranges'): Ranges:Temperature has Min 2 > Max 1.",
            "Gateway:Models:ranges ('ranges'): Ranges:TopK has Min 50 > Max 1.",
        ], lines[1..]);
    }

    [Fact]
    public void OnlyInvalidIds_DoNotAlsoReportAnEmptyCatalog()
    {
        var message = BuildError((" ", new ModelOptions()));

        Assert.DoesNotContain("is empty", message, StringComparison.Ordinal);
    }
}
