using System.Text;

namespace Guard.Engines;

/// <summary>Writes <see cref="IGuardEngine.CacheIdentity"/> strings: the engine kind, then <c>|key=value</c> fields.</summary>
/// <remarks>Values have <c>%</c>, <c>|</c> and line breaks percent-escaped, so the string splits back unambiguously.</remarks>
internal static class EngineIdentity
{
    /// <summary>Joins an engine kind and its fields.</summary>
    /// <param name="kind">The engine kind, for example <c>onnx</c>.</param>
    /// <param name="fields">The fields, in a fixed order.</param>
    public static string Join(string kind, params ReadOnlySpan<(string Key, string Value)> fields)
    {
        var text = new StringBuilder(Escape(kind));
        foreach (var (key, value) in fields)
        {
            text.Append('|').Append(key).Append('=').Append(Escape(value));
        }

        return text.ToString();
    }

    /// <summary>A base address without user info, query or fragment: scheme, host, port (when not the default) and path.</summary>
    /// <param name="address">The address; null gives an empty string.</param>
    public static string Address(Uri? address) =>
        address is null ? string.Empty
        : address.IsAbsoluteUri ? address.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped)
        : address.OriginalString;

    private static string Escape(string value) =>
        value.AsSpan().IndexOfAny("%|\r\n") < 0
            ? value
            : value.Replace("%", "%25", StringComparison.Ordinal).Replace("|", "%7C", StringComparison.Ordinal)
                .Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);
}
