using System.Text.Json;
using System.Text.Json.Nodes;
using Guard.Conversations;
using Guard.Engines;
using Guard.Prompts;
using Guard.Verdicts;

namespace Guard.Tests.Engines;

/// <summary>The remote engines render and parse with a conversation's own taxonomy, against loopback servers.</summary>
public sealed class PerCallTaxonomyTests
{
    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };

    private static readonly GuardTaxonomy FraudAndSpam = GuardTaxonomy.FromConfig(GuardFamily.LlamaGuard1, new GuardTaxonomyConfig
    {
        Replace = true,
        Categories =
        [
            new() { Code = "C1", Name = "Fraud", Description = "Should not\n- Help anyone deceive others for money." },
            new() { Code = "C2", Name = "Spam" },
        ],
    });

    private static RemoteGuardOptions Options(LoopbackServer server) => new()
    {
        BaseAddress = server.BaseAddress,
        AccountId = "acct",
        ApiToken = "guard-token",
        Model = "@hf/thebloke/llamaguard-7b-awq",
        MaxAttempts = 1,
        Timeout = TimeSpan.FromSeconds(30),
    };

    private static string WorkersAiAnswer(string response) =>
        JsonSerializer.Serialize(new { result = new { response }, success = true, errors = Array.Empty<object>(), messages = Array.Empty<object>() });

    private static string OpenAiAnswer(string text) =>
        JsonSerializer.Serialize(new { choices = new[] { new { index = 0, text, finish_reason = "stop" } } });

    private static string SentPrompt(string body) => JsonNode.Parse(body)!["prompt"]!.GetValue<string>();

    private static void AssertListsOnlyTheCustomCategories(string prompt)
    {
        Assert.Contains("C1: Fraud.\nShould not\n- Help anyone deceive others for money.\nC2: Spam.\n", prompt, StringComparison.Ordinal);
        foreach (var category in GuardTaxonomy.LlamaGuard1.Categories)
        {
            Assert.DoesNotContain(category.Code + ": ", prompt, StringComparison.Ordinal);
            Assert.DoesNotContain(category.Name, prompt, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CustomTaxonomy_IsRendered_AndItsCodesAreMapped(bool openAi)
    {
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(LoopbackServer.Json(200, openAi ? OpenAiAnswer(" unsafe\nC1") : WorkersAiAnswer("unsafe\nC1")));
        RemoteGuardEngine engine = openAi
            ? new OpenAiGuardEngine(Options(server), Http, TimeProvider.System)
            : new WorkersAiGuardEngine(Options(server), Http, TimeProvider.System);
        var conversation = GuardConversation.ForPrompt("Send me your bank password and I'll double your money.").WithTaxonomy(FraudAndSpam);

        var verdict = await engine.ClassifyAsync(conversation, CancellationToken.None);

        Assert.Equal(GuardVerdictStatus.Unsafe, verdict.Status);
        var category = Assert.Single(verdict.Categories);
        Assert.Equal(("C1", "Fraud"), (category.Code, category.Name));
        Assert.Empty(verdict.UnknownCodes);
        var prompt = SentPrompt(Assert.Single(server.Requests).Body);
        Assert.Equal(new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard1, FraudAndSpam).Render(conversation).Full, prompt);
        AssertListsOnlyTheCustomCategories(prompt);
        Assert.Same(GuardTaxonomy.LlamaGuard1, engine.Taxonomy);
    }

    [Fact]
    public async Task Batch_OfDifferentTaxonomies_RendersAndParsesEachWithItsOwn()
    {
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(LoopbackServer.Json(200, WorkersAiAnswer("unsafe\nC1,O3")));
        var engine = new WorkersAiGuardEngine(Options(server), Http, TimeProvider.System);
        var plain = GuardConversation.ForPrompt("first");
        var custom = GuardConversation.ForPrompt("second").WithTaxonomy(FraudAndSpam);
        var defaults = GuardConversation.ForPrompt("third").WithTaxonomy(GuardTaxonomy.LlamaGuard1);

        var verdicts = await engine.ClassifyBatchAsync([plain, custom, defaults], CancellationToken.None);

        // The engine's own taxonomy knows O3 but not C1; the custom one knows C1 but not O3.
        Assert.Equal(["O3"], verdicts[0].Categories.Select(c => c.Code));
        Assert.Equal(["C1"], verdicts[0].UnknownCodes);
        Assert.Equal(["C1"], verdicts[1].Categories.Select(c => c.Code));
        Assert.Equal(["O3"], verdicts[1].UnknownCodes);
        Assert.Equal(["O3"], verdicts[2].Categories.Select(c => c.Code));
        Assert.Equal(["C1"], verdicts[2].UnknownCodes);

        // Sent concurrently, so in any order: match each prompt by its conversation.
        var prompts = server.Requests.Select(r => SentPrompt(r.Body)).ToArray();
        Assert.Equal(3, prompts.Length);
        var standard = new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard1);
        Assert.Contains(standard.Render(plain).Full, prompts);
        Assert.Contains(new LlamaGuardPromptRenderer(GuardFamily.LlamaGuard1, FraudAndSpam).Render(custom).Full, prompts);
        Assert.Contains(standard.Render(defaults).Full, prompts);
        AssertListsOnlyTheCustomCategories(prompts.Single(p => p.Contains("User: second", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task TruncatedConversation_KeepsItsTaxonomy()
    {
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(LoopbackServer.Json(200, WorkersAiAnswer("unsafe\nC2")));
        var options = Options(server);
        options.ContextTokens = 1024;
        var engine = new WorkersAiGuardEngine(options, Http, TimeProvider.System);
        var turns = Enumerable.Range(0, 30).Select(i => new GuardTurn(i % 2 == 0 ? GuardRole.User : GuardRole.Agent, $"turn {i} " + new string('x', 300)));

        var verdict = await engine.ClassifyAsync(new GuardConversation(turns).WithTaxonomy(FraudAndSpam), CancellationToken.None);

        Assert.True(verdict.Truncated);
        Assert.Equal(["C2"], verdict.Categories.Select(c => c.Code));
        var prompt = SentPrompt(Assert.Single(server.Requests).Body);
        Assert.Contains("turn 29", prompt, StringComparison.Ordinal);
        AssertListsOnlyTheCustomCategories(prompt);
    }

    [Fact]
    public async Task TaxonomyOfAnotherFamily_IsRejected_BeforeAnyCall()
    {
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(LoopbackServer.Json(200, WorkersAiAnswer("safe")));
        var engine = new WorkersAiGuardEngine(Options(server), Http, TimeProvider.System);
        var wrong = GuardConversation.ForPrompt("hello").WithTaxonomy(GuardTaxonomy.LlamaGuard3);

        var single = await Assert.ThrowsAsync<ArgumentException>("conversation", () => engine.ClassifyAsync(wrong, CancellationToken.None).AsTask());
        var batch = await Assert.ThrowsAsync<ArgumentException>(
            "conversations", () => engine.ClassifyBatchAsync([GuardConversation.ForPrompt("fine"), wrong], CancellationToken.None).AsTask());

        Assert.Contains("built for LlamaGuard3", single.Message, StringComparison.Ordinal);
        Assert.Contains("renders LlamaGuard1 prompts", single.Message, StringComparison.Ordinal);
        Assert.Equal(single.Message.Split(" (Parameter")[0], batch.Message.Split(" (Parameter")[0]);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task TaxonomyBuiltFromCategoriesAlone_FitsAnyFamily()
    {
        await using var server = await LoopbackServer.StartAsync();
        server.Script.Add(LoopbackServer.Json(200, WorkersAiAnswer("unsafe\nX1")));
        var options = Options(server);
        options.Family = GuardFamily.LlamaGuard3;
        options.Model = "@cf/meta/llama-guard-3-8b";
        var engine = new WorkersAiGuardEngine(options, Http, TimeProvider.System);
        var taxonomy = GuardTaxonomy.Create([new GuardCategory("X1", "Crypto Scams", "")]);

        var verdict = await engine.ClassifyAsync(GuardConversation.ForPrompt("hello").WithTaxonomy(taxonomy), CancellationToken.None);

        Assert.Equal(["X1"], verdict.Categories.Select(c => c.Code));
        Assert.Contains("X1: Crypto Scams.\n", SentPrompt(Assert.Single(server.Requests).Body), StringComparison.Ordinal);
    }
}
