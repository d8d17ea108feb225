using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace Guard.Tokenizers;

/// <summary>The control tokens of a vocabulary (Hugging Face <c>added_tokens</c> marked special, SentencePiece control pieces).</summary>
internal sealed class SpecialTokenSet
{
    private readonly FrozenDictionary<string, int> _byText;
    private readonly FrozenDictionary<int, string> _byId;

    /// <summary>Initializes a new instance of the <see cref="SpecialTokenSet"/> class.</summary>
    /// <param name="tokens">The control tokens: text and id.</param>
    public SpecialTokenSet(IEnumerable<KeyValuePair<string, int>> tokens)
    {
        var list = tokens.ToList();
        _byText = list.ToFrozenDictionary(StringComparer.Ordinal);
        _byId = list.ToFrozenDictionary(t => t.Value, t => t.Key);
    }

    /// <summary>Gets the number of control tokens.</summary>
    public int Count => _byText.Count;

    /// <summary>Looks up a control token by its text.</summary>
    /// <param name="text">The token text.</param>
    /// <param name="id">The id when found.</param>
    /// <returns>Whether the text names a control token.</returns>
    public bool TryGetId(string text, out int id) => _byText.TryGetValue(text, out id);

    /// <summary>Looks up the text of a control token id.</summary>
    /// <param name="id">The id.</param>
    /// <param name="text">The text when <paramref name="id"/> is a control token.</param>
    /// <returns>Whether the id is a control token.</returns>
    public bool TryGetText(int id, [NotNullWhen(true)] out string? text) => _byId.TryGetValue(id, out text);

    /// <summary>Tells whether an id is a control token.</summary>
    /// <param name="id">The id.</param>
    /// <returns>Whether the id is a control token.</returns>
    public bool Contains(int id) => _byId.ContainsKey(id);
}
