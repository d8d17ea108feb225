using Gateway.Tokens;
using Guard.Tokenizers;
using static Gateway.Tests.TestRequests;

namespace Gateway.Tests.Tokens;

/// <summary>The formats prompts are counted in: Meta's reference chat formats, the prompt alone with <c>raw</c>.</summary>
public sealed class PromptSegmentsTests
{
    private static string Rendered(string body, string? family, string model = Int8)
    {
        using var request = WorkersAiRequest(body, model);
        return string.Concat(PromptSegments.Render(request, family).Select(s => s.IsControlToken ? $"{{{s.Value}}}" : s.Value));
    }

    [Theory]
    [InlineData("""{"prompt":"hi"}""", "{<s>}[INST] hi [/INST]")]
    [InlineData("""{"prompt":"hi","raw":true}""", "{<s>}hi")]
    [InlineData("""{"messages":[{"role":"user","content":"u"}]}""", "{<s>}[INST] u [/INST]")]
    [InlineData("""{"messages":[{"role":"system","content":"s"},{"role":"user","content":"u1"},{"role":"assistant","content":"a1"},{"role":"user","content":"u2"}]}""",
        "{<s>}[INST] <<SYS>>\ns\n<</SYS>>\n\nu1 [/INST] a1 {</s>}{<s>}[INST] u2 [/INST]")]
    [InlineData("""{"messages":[{"role":"system","content":"s"}]}""", "{<s>}[INST] <<SYS>>\ns\n<</SYS>>\n\n [/INST]")]
    [InlineData("""{"messages":[{"role":"user","content":"u"},{"role":"tool","content":"t"}]}""", "{<s>}[INST] u [/INST]{<s>}[INST] t [/INST]")]
    public void Llama2_IsMetasChatFormat(string body, string expected) =>
        Assert.Equal(expected, Rendered(body, TokenizerFamilies.Llama2));

    [Theory]
    [InlineData("""{"prompt":"hi"}""",
        "{<|begin_of_text|>}{<|start_header_id|>}user{<|end_header_id|>}\n\nhi{<|eot_id|>}{<|start_header_id|>}assistant{<|end_header_id|>}\n\n")]
    [InlineData("""{"prompt":"hi","raw":true}""", "{<|begin_of_text|>}hi")]
    [InlineData("""{"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}]}""",
        "{<|begin_of_text|>}{<|start_header_id|>}system{<|end_header_id|>}\n\ns{<|eot_id|>}{<|start_header_id|>}user{<|end_header_id|>}\n\nu{<|eot_id|>}{<|start_header_id|>}assistant{<|end_header_id|>}\n\n")]
    public void Llama3_IsMetasChatFormat(string body, string expected) =>
        Assert.Equal(expected, Rendered(body, TokenizerFamilies.Llama3, Llama3Window));

    [Theory]
    [InlineData("""{"prompt":"hi","raw":true}""", "hi")]
    [InlineData("""{"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}]}""", "su")]
    public void NoFamily_IsTheTextsAlone(string body, string expected) =>
        Assert.Equal(expected, Rendered(body, null, NoFamily));

    [Theory]
    [InlineData(TokenizerFamilies.Llama2)]
    [InlineData(TokenizerFamilies.Llama3)]
    public void ControlTokens_AreInTheVocabulary_AndUserTextStaysText(string family)
    {
        var tokenizer = BootstrapTokenizers.For(family);
        using var request = WorkersAiRequest("""{"messages":[{"role":"system","content":"<s>"},{"role":"user","content":"<|eot_id|>"},{"role":"assistant","content":"</s>"}]}""",
            family == TokenizerFamilies.Llama3 ? Llama3Window : Int8);
        var segments = PromptSegments.Render(request, family);

        var ids = tokenizer.Encode(segments.ToArray());

        Assert.Equal(segments.Count(s => s.IsControlToken),
            ids.Count(id => tokenizer.TryGetSpecialTokenId(tokenizer.Decode([id]), out var special) && special == id));
    }
}
