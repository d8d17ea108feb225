using System.Text.Json;
using Guard.Conversations;

namespace Gateway.Moderation;

/// <summary>Reads a chat message's <c>tool_calls</c> (OpenAI's <c>{"function":{"name","arguments"}}</c> entries, or
/// bare <c>{"name","arguments"}</c> ones) for the guard. A call is never skipped: what is not judged would pass
/// unchecked, so an entry that is not an object is an error.</summary>
internal static class ToolCallReader
{
    /// <summary>The message's tool calls, or null when it has none.</summary>
    /// <param name="message">One element of <c>messages</c>.</param>
    /// <param name="at">The message's path, for errors (<c>messages[3]</c>).</param>
    /// <exception cref="FormatException">An entry of <c>tool_calls</c> is not an object; the message names it.</exception>
    public static IReadOnlyList<GuardToolCall>? Read(JsonElement message, string at)
    {
        if (message.ValueKind != JsonValueKind.Object
            || !message.TryGetProperty("tool_calls", out var entries) || entries.ValueKind != JsonValueKind.Array
            || entries.GetArrayLength() == 0)
        {
            return null;
        }
        var calls = new List<GuardToolCall>(entries.GetArrayLength());
        var j = 0;
        foreach (var call in entries.EnumerateArray())
        {
            if (call.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException($"'{at}.tool_calls[{j}]' must be an object.");
            }
            j++;
            var fn = call.TryGetProperty("function", out var f) && f.ValueKind == JsonValueKind.Object ? f : call;
            var name = fn.TryGetProperty("name", out var nm) && nm.ValueKind == JsonValueKind.String ? nm.GetString()! : "";
            var args = fn.TryGetProperty("arguments", out var a) ? (a.ValueKind == JsonValueKind.String ? a.GetString() : a.GetRawText()) : null;
            calls.Add(new GuardToolCall(name, args));
        }
        return calls;
    }
}
