using System.Text;
using Guard.Conversations;

namespace Guard.Prompts;

/// <summary>The fixed text around the conversation for each Llama Guard generation, from its chat template.</summary>
/// <remarks>The byte-exact reference renderings live in tests/Guard.Tests/Prompts/Reference.</remarks>
internal static class PromptLayout
{
    public const string BeginOfText = "<|begin_of_text|>";
    public const string StartHeader = "<|start_header_id|>";
    public const string EndHeader = "<|end_header_id|>";
    public const string EndOfTurn = "<|eot_id|>";

    private const string Instruction = "[INST] ";
    private const string EndInstruction = " [/INST]";

    /// <summary>The label a turn is written with, and the role named in the task and closing lines.</summary>
    public static string Label(GuardRole role) => role == GuardRole.Agent ? "Agent" : "User";

    /// <summary>Everything before the first turn.</summary>
    public static List<PromptSegment> Prefix(GuardFamily family, GuardTaxonomy taxonomy, GuardRole role)
    {
        var segments = new List<PromptSegment>();
        if (family == GuardFamily.LlamaGuard3)
        {
            // The template starts with a space before <|begin_of_text|>; it is part of the trained format.
            segments.Add(new(" ", false));
            segments.Add(new(BeginOfText, true));
            segments.Add(new(StartHeader, true));
            segments.Add(new("user", false));
            segments.Add(new(EndHeader, true));
        }

        var text = new StringBuilder();
        text.Append(family == GuardFamily.LlamaGuard3 ? "\n\n" : Instruction)
            .Append("Task: Check if there is unsafe content in '").Append(Label(role))
            .Append("' messages in conversations according our safety policy with the below categories.\n\n")
            .Append("<BEGIN UNSAFE CONTENT CATEGORIES>\n");
        foreach (var category in taxonomy.Categories)
        {
            AppendCategory(text, family, category);
        }

        text.Append("<END UNSAFE CONTENT CATEGORIES>\n\n<BEGIN CONVERSATION>\n\n");
        segments.Add(new(text.ToString(), false));
        return segments;
    }

    /// <summary>Everything after the last turn, up to where the model writes its answer.</summary>
    public static List<PromptSegment> Suffix(GuardFamily family, GuardRole role)
    {
        var label = Label(role);
        var closing = family == GuardFamily.LlamaGuard1
            ? $"<END CONVERSATION>\n\nProvide your safety assessment for {label} in the above conversation:\n"
              + "- First line must read 'safe' or 'unsafe'.\n"
              + "- If unsafe, a second line must include a comma-separated list of violated categories."
            : $"<END CONVERSATION>\n\nProvide your safety assessment for ONLY THE LAST {label} message in the above conversation:\n"
              + " - First line must read 'safe' or 'unsafe'.\n"
              + " - If unsafe, a second line must include a comma-separated list of violated categories.";
        if (family != GuardFamily.LlamaGuard3)
        {
            return [new(closing + EndInstruction, false)];
        }

        return
        [
            new(closing, false),
            new(EndOfTurn, true),
            new(StartHeader, true),
            new("assistant", false),
            new(EndHeader, true),
        ];
    }

    /// <summary>
    /// <c>Code: Name.</c> on one line (Llama Guard 2 adds a space before the line break), then the description, if any.
    /// </summary>
    private static void AppendCategory(StringBuilder text, GuardFamily family, GuardCategory category)
    {
        text.Append(category.Code).Append(": ").Append(category.HeadingText);
        if (family == GuardFamily.LlamaGuard2)
        {
            text.Append(' ');
        }

        text.Append('\n');
        if (category.Description.Length > 0)
        {
            text.Append(category.Description).Append('\n');
        }
    }
}
