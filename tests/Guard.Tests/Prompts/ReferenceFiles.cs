using System.Runtime.CompilerServices;
using System.Text;

namespace Guard.Tests.Prompts;

/// <summary>
/// The byte-exact reference renderings in Prompts/Reference (the project's own test data; no file ends with a newline).
/// </summary>
internal static class ReferenceFiles
{
    public const string BeginConversation = "<BEGIN CONVERSATION>\n\n";
    public const string EndConversation = "<END CONVERSATION>";
    public const string BeginCategories = "<BEGIN UNSAFE CONTENT CATEGORIES>\n";
    public const string EndCategories = "<END UNSAFE CONTENT CATEGORIES>";

    public static byte[] ReadBytes(string name, [CallerFilePath] string sourceFile = "")
    {
        // Copied next to the test assembly when the project marks them CopyToOutputDirectory; otherwise read beside
        // this source file, which is inside the test project itself.
        var output = Path.Combine(AppContext.BaseDirectory, "Prompts", "Reference", name);
        var path = File.Exists(output) ? output : Path.Combine(Path.GetDirectoryName(sourceFile)!, "Reference", name);
        return File.ReadAllBytes(path);
    }

    public static string Read(string name) => Encoding.UTF8.GetString(ReadBytes(name));

    public static string Prefix(string name)
    {
        var text = Read(name);
        return text[..(text.IndexOf(BeginConversation, StringComparison.Ordinal) + BeginConversation.Length)];
    }

    public static string Suffix(string name)
    {
        var text = Read(name);
        return text[text.IndexOf(EndConversation, StringComparison.Ordinal)..];
    }

    /// <summary>The text between the category markers, each category's lines ending with a line break.</summary>
    public static string CategoryBlock(string text)
    {
        var start = text.IndexOf(BeginCategories, StringComparison.Ordinal) + BeginCategories.Length;
        return text[start..text.IndexOf(EndCategories, StringComparison.Ordinal)];
    }

    public static string ReplaceCategoryBlock(string text, string block) =>
        text.Replace(CategoryBlock(text), block, StringComparison.Ordinal);
}
