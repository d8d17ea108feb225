using Gateway.Generation;
using Guard.Tokenizers;

namespace Gateway.Tokens;

/// <summary>What a model reads for a request, as tokenizer segments: the family's chat format around the messages,
/// or around an unscoped prompt (which Workers AI wraps as one user turn), or with <c>raw</c> the prompt alone after
/// the beginning-of-text token.</summary>
/// <remarks>
/// The formats are Meta's reference ones. Llama 2: <c>&lt;s&gt;[INST] &lt;&lt;SYS&gt;&gt;\n{system}\n&lt;&lt;/SYS&gt;&gt;\n\n{user} [/INST] {assistant} &lt;/s&gt;</c>
/// per exchange. Llama 3: <c>&lt;|begin_of_text|&gt;</c>, then <c>&lt;|start_header_id|&gt;{role}&lt;|end_header_id|&gt;\n\n{content}&lt;|eot_id|&gt;</c>
/// per message and the assistant header the model answers after. Content is counted as sent (not trimmed), control-token
/// strings inside it count as text (docs/adr/003), and tool definitions are not counted, so the count can be a little
/// lower than the upstream's (Llama 3.1's system header with its knowledge and current dates is left out too) but
/// never inflated by content. A model without a family gets its texts with no format around them.
/// </remarks>
internal static class PromptSegments
{
    /// <summary>The most tokens the format adds around one message (role header or [INST] wrapper, system block),
    /// under the bound of <see cref="TokenBounds"/>; checked by the tests for both families.</summary>
    public const int MaxOverheadPerMessage = 32;

    /// <summary>The most tokens the format adds once per request (beginning of text, the assistant header).</summary>
    public const int MaxOverheadPerRequest = 32;

    private const string Bos2 = "<s>";
    private const string Eos2 = "</s>";
    private const string Bos3 = "<|begin_of_text|>";
    private const string StartHeader = "<|start_header_id|>";
    private const string EndHeader = "<|end_header_id|>";
    private const string EndOfTurn = "<|eot_id|>";

    /// <summary>Renders a request for a family (a <see cref="TokenizerFamilies"/> constant, or null).</summary>
    public static List<TokenSegment> Render(GenerationRequest request, string? family)
    {
        var segments = new List<TokenSegment>();
        if (request.Raw && request.Prompt is { } raw)
        {
            if (family is not null)
            {
                segments.Add(TokenSegment.ControlToken(family == TokenizerFamilies.Llama3 ? Bos3 : Bos2));
            }
            segments.Add(TokenSegment.PlainText(raw));
            return segments;
        }
        IReadOnlyList<ChatMessage> messages = request.Messages ?? [new ChatMessage("user", request.Prompt ?? "")];
        switch (family)
        {
            case TokenizerFamilies.Llama2:
                Llama2(messages, segments);
                break;
            case TokenizerFamilies.Llama3:
                Llama3(messages, segments);
                break;
            default:
                foreach (var m in messages)
                {
                    segments.Add(TokenSegment.PlainText(m.Content));
                }
                break;
        }
        return segments;
    }

    private static void Llama2(IReadOnlyList<ChatMessage> messages, List<TokenSegment> s)
    {
        var start = 0;
        string? system = null;
        if (messages[0].Role is "system" or "developer")
        {
            system = messages[0].Content;
            start = 1;
        }
        for (var i = start; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m.Role == "assistant")
            {
                s.Add(TokenSegment.PlainText(" "));
                s.Add(TokenSegment.PlainText(m.Content));
                s.Add(TokenSegment.PlainText(" "));
                s.Add(TokenSegment.ControlToken(Eos2));
                continue;
            }
            s.Add(TokenSegment.ControlToken(Bos2));
            s.Add(TokenSegment.PlainText("[INST] "));
            AddSystem(s, ref system);
            s.Add(TokenSegment.PlainText(m.Content));
            s.Add(TokenSegment.PlainText(" [/INST]"));
        }
        if (system is not null)
        {
            // A system message with no user turn after it still reaches the model, in an instruction of its own.
            s.Add(TokenSegment.ControlToken(Bos2));
            s.Add(TokenSegment.PlainText("[INST] "));
            AddSystem(s, ref system);
            s.Add(TokenSegment.PlainText(" [/INST]"));
        }
    }

    private static void AddSystem(List<TokenSegment> s, ref string? system)
    {
        if (system is null)
        {
            return;
        }
        s.Add(TokenSegment.PlainText("<<SYS>>\n"));
        s.Add(TokenSegment.PlainText(system));
        s.Add(TokenSegment.PlainText("\n<</SYS>>\n\n"));
        system = null;
    }

    private static void Llama3(IReadOnlyList<ChatMessage> messages, List<TokenSegment> s)
    {
        s.Add(TokenSegment.ControlToken(Bos3));
        foreach (var m in messages)
        {
            Header(s, m.Role);
            s.Add(TokenSegment.PlainText(m.Content));
            s.Add(TokenSegment.ControlToken(EndOfTurn));
        }
        Header(s, "assistant");
    }

    private static void Header(List<TokenSegment> s, string role)
    {
        s.Add(TokenSegment.ControlToken(StartHeader));
        s.Add(TokenSegment.PlainText(role));
        s.Add(TokenSegment.ControlToken(EndHeader));
        s.Add(TokenSegment.PlainText("\n\n"));
    }
}
