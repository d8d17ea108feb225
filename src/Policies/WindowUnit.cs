namespace Policies;

/// <summary>The unit a streaming window is measured in.</summary>
public enum WindowUnit
{
    /// <summary>UTF-16 characters of response text.</summary>
    Characters,

    /// <summary>Tokens, counted with the guard family's tokenizer (estimated when none is loaded).</summary>
    Tokens,
}
