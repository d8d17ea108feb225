namespace Guard.Conversations;

/// <summary>The two speakers Llama Guard knows: the person (<c>User</c>) and the model (<c>Agent</c>).</summary>
public enum GuardRole
{
    /// <summary>Input to the model: user messages, and by the mapping in ADR 004 system prompts and tool results.</summary>
    User,

    /// <summary>Output of the model: assistant messages and the tool calls they make.</summary>
    Agent,
}
