using Policies.Model;

namespace Policies.Tests.Model;

public class GlobTests
{
    [Theory]
    [InlineData("@cf/meta/*", "@cf/meta/llama-3-8b-instruct", true)]
    [InlineData("@cf/meta/*", "@cf/meta/", true)]
    [InlineData("@cf/meta/*", "@cf/meta", false)]
    [InlineData("@cf/*/llama-*", "@cf/meta/llama-3", true)]
    [InlineData("@cf/*/llama-*", "@cf/meta/mistral", false)]
    [InlineData("*-awq", "@hf/thebloke/llamaguard-7b-awq", true)]
    [InlineData("*", "", true)]
    [InlineData("a*b*c", "aXbYbZc", true)]
    [InlineData("a*b*c", "aXbYbZ", false)]
    [InlineData("@CF/META/*", "@cf/meta/x", true)]
    [InlineData("exact", "exact", true)]
    [InlineData("exact", "exactly", false)]
    public void Matches(string pattern, string text, bool expected) => Assert.Equal(expected, Glob.Matches(pattern, text));

    [Theory]
    [InlineData("@cf/meta/*", "@cf/meta/llama-*", true)]
    [InlineData("@cf/meta/*", "@cf/mistral/*", false)]
    [InlineData("x*", "*y", true)]
    [InlineData("*-awq", "@cf/*", true)]
    [InlineData("@hf/*", "@cf/*", false)]
    [InlineData("a*c", "ab*", true)]
    [InlineData("a*c", "b*", false)]
    [InlineData("abc", "ABC", true)]
    [InlineData("abc", "abd", false)]
    [InlineData("*a", "*b", false)]
    [InlineData("@cf/meta/llama-3-8b-instruct", "@cf/meta/*", true)]
    public void Overlaps(string a, string b, bool expected)
    {
        Assert.Equal(expected, Glob.Overlaps(a, b));
        Assert.Equal(expected, Glob.Overlaps(b, a));
    }
}
