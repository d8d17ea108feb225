namespace Guard.Tokenizers;

/// <summary>Where the normalizer puts the '▁' that stands for a leading space.</summary>
internal enum PrefixSpace
{
    /// <summary>Never (Metaspace <c>prepend_scheme: never</c>).</summary>
    None,

    /// <summary>Before every text run, also after a control token (Llama 2's <c>Prepend("▁")</c> normalizer).</summary>
    Always,

    /// <summary>Only before the text that starts the input (Metaspace <c>prepend_scheme: first</c>).</summary>
    First,
}
