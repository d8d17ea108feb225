namespace Policies;

/// <summary>Which side of a generation a role policy judges.</summary>
public enum PolicyRole
{
    /// <summary>The request: prompt or messages, judged before anything is forwarded.</summary>
    Prompt,

    /// <summary>What the model generated, whole or streamed.</summary>
    Response,
}
